#!/usr/bin/env python3
"""Scale-out check: the Parquet that `faultline export` writes answers every
named query on Spark (local mode) as `faultline query` answers it.

Generates a multi-host bundle with the corpus generator, exports it, runs
each named query (`faultline query --list-queries`) in faultline and in Spark
over the export, and compares the answers as sorted rows with numbers
compared as numbers. Prints one line per query and the Spark version; exits
1 when any query disagrees.

    python3 -m pip install pyspark   # Spark in local mode; needs Java 17+
    cargo build --release -p faultline -p faultline-corpus
    python3 benches/scripts/spark_check.py target/release

Not part of .ci/run: Spark's start-up alone takes most of a minute.
"""

import datetime
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TABLES = ["requests", "httperr", "traces", "events"]
SCENARIOS = [("crash-and-queue-full", "3"), ("config-error", "1"), ("auth-failure", "1"), ("handler-missing", "1")]


def named_queries(faultline):
    """(name, sql) of every named query, as faultline lists them."""
    listing = subprocess.run(
        [faultline, "query", "--list-queries"], check=True, capture_output=True, text=True
    ).stdout
    queries, name = [], None
    for line in listing.splitlines():
        if line and not line.startswith(" "):
            name = line.split()[0]
        elif name and line.strip():
            queries.append((name, line.strip()))
            name = None
    return queries


def spark_sql(sql):
    """The one dialect difference the named queries meet: polars' strftime
    is Spark's date_format with Java's pattern letters."""
    def java(m):
        pattern = m.group(2).replace("%Y", "yyyy").replace("%m", "MM").replace("%d", "dd")
        pattern = pattern.replace("%H", "HH").replace("%M", "mm").replace("%S", "ss")
        return f"date_format({m.group(1)}, '{pattern}')"

    return re.sub(r"strftime\(([^,]+), '([^']*)'\)", java, sql)


def normal(value):
    """A cell as text, numbers as numbers (Spark's doubles and longs and
    polars' floats print differently), nulls as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        # The export's timestamps are UTC without a zone; faultline writes
        # them in RFC 3339 with nine fractional digits.
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    text = str(value)
    try:
        n = float(text)
    except ValueError:
        return text
    if math.isnan(n):
        return "nan"
    return f"{n:.6g}"


def rows_of_csv(text):
    import csv

    lines = list(csv.reader(text.splitlines()))
    return sorted([normal(c if c != "" else None) for c in row] for row in lines[1:])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bin_dir = Path(sys.argv[1])
    faultline, corpus = str(bin_dir / "faultline"), str(bin_dir / "faultline-corpus")
    from pyspark.sql import SparkSession

    work = Path(tempfile.mkdtemp(prefix="faultline-spark-"))
    bundle, export = work / "bundle", work / "export"
    # A farm incident on three hosts, and scenarios that give FREB traces
    # and failed logons, so that every table has rows.
    for scenario, hosts in SCENARIOS:
        subprocess.run(
            [corpus, "generate", "--scenario", scenario, "--out", str(bundle / scenario), "--hosts", hosts, "--hours", "6"],
            check=True,
            capture_output=True,
        )
    subprocess.run([faultline, "export", "-q", "--all-events", "--to", str(export), str(bundle)], check=True, capture_output=True)
    spark = SparkSession.builder.master("local[2]").appName("faultline-spark-check").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for table in TABLES:
        if (export / table).exists():
            spark.read.option("basePath", str(export / table)).parquet(str(export / table)).createOrReplaceTempView(table)
    names = ", ".join(f"{s} ({h} hosts)" for s, h in SCENARIOS)
    print(f"Spark {spark.version}, pyspark local[2]; 6 hours each of {names}")
    missing = [t for t in TABLES if not (export / t).exists()]
    if missing:
        print(f"not exported (no rows): {', '.join(missing)}")
    failed = 0
    for name, sql in named_queries(faultline):
        ours = subprocess.run(
            [faultline, "query", "-q", "--all-events", "--format", "csv", "--query", name, str(bundle)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        theirs = sorted([normal(v) for v in row] for row in spark.sql(spark_sql(sql)).collect())
        mine = rows_of_csv(ours)
        verdict = "agree" if mine == theirs else "DIFFER"
        failed += mine != theirs
        print(f"{name:<22} {verdict}  {len(mine)} rows in faultline, {len(theirs)} in Spark")
        if mine != theirs:
            for a, b in zip(mine, theirs):
                if a != b:
                    print(f"    first difference: faultline {a} / Spark {b}")
                    break
    spark.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
