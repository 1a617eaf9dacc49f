"""Writes small parquet files in the Hugging Face Hub's layouts, with pyarrow, for EdgeLlm's parquet tests.

  python3 tools/reference/make_parquet_fixtures.py DATASETS_DIR tests/EdgeLlm.Tests/References/parquet

DATASETS_DIR is laid out like ../shared/datasets (commonsenseqa/dev_rand_split.jsonl,
gsm8k/test.jsonl, truthfulqa/TruthfulQA.csv). The first 10 rows of each are written with the schema
the Hub's parquet conversion has (nested struct and list columns included) and several row groups,
so that the reader's row-group streaming is exercised. pyarrow is the independent writer: the tests
must not read files that EdgeLlm's own parquet library wrote.
"""
import csv
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

source, out = sys.argv[1], sys.argv[2]
ROWS = 10


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line, _ in zip(f, range(ROWS))]


def write(rows, schema, relative, row_group_size):
    path = os.path.join(out, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, row_group_size=row_group_size)
    print(relative, table.num_rows, "rows,", pq.ParquetFile(path).num_row_groups, "row groups")


strings = pa.list_(pa.string())

# tau/commonsense_qa, data/validation-00000-of-00001.parquet
csqa = jsonl(os.path.join(source, "commonsenseqa", "dev_rand_split.jsonl"))
write(csqa, pa.schema([("id", pa.string()), ("question", pa.string()), ("question_concept", pa.string()),
                       ("choices", pa.struct([("label", strings), ("text", strings)])), ("answerKey", pa.string())]),
      "commonsense_qa/data/validation-00000-of-00001.parquet", 4)

# openai/gsm8k, main/test-00000-of-00001.parquet
gsm8k = jsonl(os.path.join(source, "gsm8k", "test.jsonl"))
write([{"question": r["question"], "answer": r["answer"]} for r in gsm8k],
      pa.schema([("question", pa.string()), ("answer", pa.string())]), "gsm8k/main/test-00000-of-00001.parquet", 3)

# truthfulqa/truthful_qa, generation/validation-00000-of-00001.parquet: the answer lists are the CSV's
# ';'-separated cells split and stripped, as the Hub's loader script built them.
with open(os.path.join(source, "truthfulqa", "TruthfulQA.csv"), newline="", encoding="utf-8") as f:
    csv_rows = [r for r, _ in zip(csv.DictReader(f), range(ROWS))]
split = lambda cell: [item.strip() for item in cell.strip().split(";")]
write([{"type": r["Type"], "category": r["Category"], "question": r["Question"], "best_answer": r["Best Answer"],
        "correct_answers": split(r["Correct Answers"]), "incorrect_answers": split(r["Incorrect Answers"]), "source": r["Source"]}
       for r in csv_rows],
      pa.schema([("type", pa.string()), ("category", pa.string()), ("question", pa.string()), ("best_answer", pa.string()),
                 ("correct_answers", strings), ("incorrect_answers", strings), ("source", pa.string())]),
      "truthful_qa/generation/validation-00000-of-00001.parquet", 4)

with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
    f.write(f"Written by tools/reference/make_parquet_fixtures.py with pyarrow {pa.__version__} "
            f"from the first {ROWS} rows of ../shared/datasets (commonsenseqa/dev_rand_split.jsonl, gsm8k/test.jsonl, "
            "truthfulqa/TruthfulQA.csv), in the Hub's parquet layouts.\n")
