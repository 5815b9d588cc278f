"""Reads one W3C file the way a user would with polars or DuckDB, materialising
every column (space separator, '#' directive lines skipped, no quoting); or,
with the -query modes, answers faultline's `status-codes` named query
(requests by status, sub-status and win32 status) the way a user would.

usage: python3 w3c_peers.py polars|duckdb|polars-query|duckdb-query FILE
"""
import sys

FIELDS = ("date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port "
          "cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status "
          "sc-substatus sc-win32-status sc-bytes cs-bytes time-taken").split()

def run_polars(path):
    import polars as pl
    df = pl.read_csv(path, separator=" ", comment_prefix="#", has_header=False,
                     new_columns=FIELDS, quote_char=None, infer_schema_length=10000)
    print(df.height, "rows", df.width, "columns")

def run_duckdb(path):
    import duckdb
    con = duckdb.connect()
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(FIELDS)))
    con.execute(f"""CREATE TABLE w3c AS SELECT * FROM read_csv('{path}', delim=' ', header=false,
                   comment='#', quote='', escape='', auto_detect=true)""")
    print(con.execute("SELECT count(*) FROM w3c").fetchone()[0], "rows")

def run_polars_query(path):
    import polars as pl
    lf = pl.scan_csv(path, separator=" ", comment_prefix="#", has_header=False,
                     new_columns=FIELDS, quote_char=None, infer_schema_length=10000)
    out = (lf.group_by(["sc-status", "sc-substatus", "sc-win32-status"]).len()
             .sort(["len", "sc-status", "sc-substatus", "sc-win32-status"], descending=[True, False, False, False])
             .collect())
    print(out.height, "groups")

def run_duckdb_query(path):
    import duckdb
    con = duckdb.connect()
    cols = ", ".join(f"'{f}': 'VARCHAR'" for f in FIELDS)
    rows = con.execute(f"""SELECT "sc-status", "sc-substatus", "sc-win32-status", count(*) AS hits
                           FROM read_csv('{path}', delim=' ', header=false, comment='#', quote='', escape='', auto_detect=false,
                                         columns={{{cols}}})
                           GROUP BY ALL ORDER BY hits DESC, 1, 2, 3""").fetchall()
    print(len(rows), "groups")

{"polars": run_polars, "duckdb": run_duckdb, "polars-query": run_polars_query,
 "duckdb-query": run_duckdb_query}[sys.argv[1]](sys.argv[2])
