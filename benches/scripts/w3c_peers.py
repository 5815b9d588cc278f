"""Reads one W3C file the way a user would with polars or DuckDB, materialising
every column (space separator, '#' directive lines skipped, no quoting).

usage: python3 w3c_peers.py polars|duckdb FILE
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

{"polars": run_polars, "duckdb": run_duckdb}[sys.argv[1]](sys.argv[2])
