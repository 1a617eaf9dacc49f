"""Runs human-eval's own evaluate_functional_correctness on fixed completions for real HumanEval problems.

  /usr/bin/python3 tools/reference/humaneval_reference.py HUMAN_EVAL_TREE HUMAN_EVAL_REV HumanEval.jsonl.gz OUT_JSON

HUMAN_EVAL_TREE is an export of openai/human-eval (its human_eval package is imported from there,
unchanged: at the recorded commit the exec line is enabled). Needs numpy and tqdm. OpenCompass 0.3.1's
HumanEvalEvaluator calls evaluate_functional_correctness(..., k=[1], n_workers=4, timeout=3.0); the
same arguments are used here, on a problem file holding only the problems that get a completion (the
function insists that every problem in the file is attempted). The completions are this project's.
"""
import gzip
import json
import os
import platform
import sys
import tempfile

tree, rev, problems_path, out_path = sys.argv[1:5]
sys.path.insert(0, tree)
from human_eval.data import read_problems  # noqa: E402
from human_eval.evaluation import evaluate_functional_correctness  # noqa: E402

problems = read_problems(problems_path)
canonical = lambda task: problems[task]["canonical_solution"]

# (label, task_id, completion)
CASES = [
    ("canonical", "HumanEval/0", canonical("HumanEval/0")),
    ("canonical", "HumanEval/2", canonical("HumanEval/2")),
    ("canonical", "HumanEval/4", canonical("HumanEval/4")),
    ("wrong answer", "HumanEval/1", "    return []\n"),
    ("raises", "HumanEval/3", "    raise ValueError('not today')\n"),
    ("infinite loop", "HumanEval/5", "    while True:\n        pass\n"),
    ("syntax error", "HumanEval/6", "    return (\n"),
    ("empty completion", "HumanEval/9", ""),
    ("main block reads stdin", "HumanEval/7", canonical("HumanEval/7") + "\n\nif __name__ == '__main__':\n    print(input())\n"),
    ("sys.exit(0) before the tests", "HumanEval/8", canonical("HumanEval/8") + "\n\nimport sys\nsys.exit(0)\n"),
    ("exit() before the tests", "HumanEval/10", canonical("HumanEval/10") + "\n\nexit()\n"),
    ("reads stdin at import", "HumanEval/11", canonical("HumanEval/11") + "\n\nimport sys\n_ = sys.stdin.read()\n"),
    ("os._exit(0) before the tests", "HumanEval/12", canonical("HumanEval/12") + "\n\nimport os\nos._exit(0)\n"),
    ("imports resource", "HumanEval/13", canonical("HumanEval/13") + "\n\nimport resource\n"),
    ("calls os.getcwd", "HumanEval/14", canonical("HumanEval/14") + "\n\nimport os\n_ = os.getcwd()\n"),
    ("prints a lot", "HumanEval/15", canonical("HumanEval/15") + "\n\nfor _i in range(10000):\n    print('noise', _i)\n"),
    ("sleeps 1 s then passes", "HumanEval/16", canonical("HumanEval/16") + "\n\nimport time\ntime.sleep(1)\n"),
    ("catches everything, loops", "HumanEval/17", canonical("HumanEval/17") + "\n\nwhile True:\n    try:\n        pass\n    except BaseException:\n        pass\n"),
    ("uses __file__", "HumanEval/18", canonical("HumanEval/18") + "\n\n_ = __file__\n"),
]

with tempfile.TemporaryDirectory() as work:
    problem_file = os.path.join(work, "problems.jsonl.gz")
    with gzip.open(problem_file, "wt", encoding="utf-8") as f:
        for _, task, _ in CASES:
            f.write(json.dumps(problems[task]) + "\n")
    sample_file = os.path.join(work, "samples.jsonl")
    with open(sample_file, "w", encoding="utf-8") as f:
        for _, task, completion in CASES:
            f.write(json.dumps({"task_id": task, "completion": completion}) + "\n")
    pass_at_k = evaluate_functional_correctness(sample_file, k=[1], n_workers=4, timeout=3.0, problem_file=problem_file)
    with open(sample_file + "_results.jsonl", encoding="utf-8") as f:
        results = [json.loads(line) for line in f]

by_task = {r["task_id"]: r for r in results}
out = {
    "_how": f"Made by tools/reference/humaneval_reference.py {tree} {rev} {problems_path} {out_path} (python {platform.python_version()}): "
            "human-eval's evaluate_functional_correctness(k=[1], n_workers=4, timeout=3.0) on the completions below.",
    "_sources": {"openai/human-eval": rev},
    "pass_at_1": float(pass_at_k["pass@1"]),
    "cases": [dict(label=label, task_id=task, completion=completion, passed=by_task[task]["passed"], result=by_task[task]["result"])
              for label, task, completion in CASES],
}
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print(json.dumps({c["label"]: c["result"] for c in out["cases"]}, indent=1), out["pass_at_1"])
