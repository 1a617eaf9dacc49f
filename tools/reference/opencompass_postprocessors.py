"""Runs OpenCompass's own answer post-processors and TruthfulQA BLEU evaluator on fixed model outputs.

  /usr/bin/python3 tools/reference/opencompass_postprocessors.py OPENCOMPASS_TREE OC_REV \
      EVALUATE_TREE EVALUATE_REV NMT_TREE NMT_REV TRUTHFULQA_CSV GSM8K_TEST_JSONL OUT_JSON

OPENCOMPASS_TREE is an export of open-compass/opencompass (tag 0.3.1), EVALUATE_TREE of
huggingface/evaluate (its metrics/bleu/), NMT_TREE of tensorflow/nmt (nmt/scripts/bleu.py, which
evaluate's bleu.py imports as nmt_bleu). The *_REV arguments are only recorded in the output. Module
files are loaded one by one with stubbed imports (see reference_modules.py); needs numpy.
The inputs below are written by this project; the outputs are what the published code returns.
"""
import copy
import csv
import json
import os
import platform
import sys

from reference_modules import load_file, stub_modules

oc_tree, oc_rev, ev_tree, ev_rev, nmt_tree, nmt_rev, truthfulqa_csv, gsm8k_jsonl, out_path = sys.argv[1:10]

stub_modules("opencompass.registry", "opencompass.openicl.icl_evaluator", "opencompass.openicl",
             "opencompass.utils", "opencompass.datasets.base", "datasets", "transformers", "torch")
sys.modules["opencompass.openicl"].BaseEvaluator = type("BaseEvaluator", (), {})
sys.modules["opencompass.openicl.icl_evaluator"].BaseEvaluator = sys.modules["opencompass.openicl"].BaseEvaluator
oc = os.path.join(oc_tree, "opencompass")
text_post = load_file(os.path.join(oc, "utils", "text_postprocessors.py"), "opencompass.utils.text_postprocessors")
bbh = load_file(os.path.join(oc, "datasets", "bbh.py"), "opencompass.datasets.bbh")
gsm8k = load_file(os.path.join(oc, "datasets", "gsm8k.py"), "opencompass.datasets.gsm8k")
humaneval = load_file(os.path.join(oc, "datasets", "humaneval.py"), "opencompass.datasets.humaneval")

# Hugging Face evaluate's "bleu" metric: bleu.py imports `.nmt_bleu` (tensorflow/nmt's scripts/bleu.py,
# which evaluate downloads under that name) and `.tokenizer_13a`. Bleu._compute is called directly:
# evaluate.Metric.compute only validates/casts the string inputs before calling it.
stub_modules("evaluate", "evaluate.utils", "evaluate.utils.file_utils", "hf_bleu")
sys.modules["evaluate"].Metric = type("Metric", (), {})
sys.modules["evaluate"].utils.file_utils.add_start_docstrings = lambda *a: (lambda f: f)
load_file(os.path.join(nmt_tree, "nmt", "scripts", "bleu.py"), "hf_bleu.nmt_bleu")
load_file(os.path.join(ev_tree, "metrics", "bleu", "tokenizer_13a.py"), "hf_bleu.tokenizer_13a")
hf_bleu = load_file(os.path.join(ev_tree, "metrics", "bleu", "bleu.py"), "hf_bleu.bleu")


class LoadedBleu:
    def compute(self, predictions, references):
        return hf_bleu.Bleu()._compute(predictions=predictions, references=references)


sys.modules["evaluate"].load = lambda name: LoadedBleu() if name == "bleu" else None
truthfulqa = load_file(os.path.join(oc, "datasets", "truthfulqa.py"), "opencompass.datasets.truthfulqa")

FIRST_CAPITAL = [
    "B", "The answer is C.", "answer: d", "no capital letters at all", "", "   ", "  e. because... A",
    "答案是 C", "答案：选项B", "我认为是（D）", "Ⓑ is circled", "Ⅳ roman four then A", "ǅ titlecase then B",
    "𝐀 mathematical bold capital", "ａｂｃ Ｆ fullwidth", "émile Émile", "ß then ẞ", "σ Σ", "\u00a0\u2003C",
]

BBH_MCQ = [
    "So the answer is (B).", "Let's think step by step.\nThe first option is wrong.\nSo the answer is (C).",
    "So the answer is (b).", "the answer is D", "So the answer is B.", "So the answer is (A) or (B).",
    "The correct answer is (E)\nQ: next question... So the answer is (D).",
    "I cannot decide.", "no answer at all", "", "answer is ", "So the answer is ((C))", "answer is (F)",
    "My answer is: (G)\n", "Options (A) and (B) are close; So the answer is none of them.",
    "答案是 (C)", "So the answer is (C)\x1f", "So the answer is \u00a0(B)",
]

BBH_FREEFORM = [
    "So the answer is 24.", "So the answer is **valid**.", "So the answer is True\nQ: another",
    "So the answer is 3.5.", "Let's think step by step.\nFirst line\nSecond line", "",
    "So the answer is .", "So the answer is  No . ", "So the answer is invalid.\x1f", "answer is ** bold** words.",
    "So the answer is [1, 2].\nSo the answer is 3.", "So the answer is ) ) (.", "  leading space answer. ",
    "So the answer is Yes..", "So the answer is sort: apple banana", "So the answer is 12\u3000",
]

GSM8K_OUTPUTS = [
    "The answer is 1,234.", "Janet has -5 degrees.", "She pays 3.14 dollars.", "So she has 42 left.\nQuestion: what is 7 + 8?\nAnswer: 15",
    "No numbers here.", "", "5-3=2", "1.2.3", "-.5 and .5", "The total is $18.00.", "It costs 1,000,000 dollars",
    "Question: 3 + 4\nAnswer: 7", "٣ apples and ٤ pears", "１２ fullwidth", "Answer is 7.\n\nQuestion:", "-0", "007",
    "10.5 -- 3", "The answer is 18\nQuestion: Janet’s ducks lay 16 eggs per day.",
]

GSM8K_EQUAL = [
    ["18", "18"], ["18.0", "18"], ["18.000001", "18"], ["18.0000001", "18"], ["17.9999999", "18"], ["NULL", "18"],
    ["-3", "-3"], ["3", "-3"], ["٣", "3"], ["１２", "12"], ["007", "7"], ["1.5", "1.5"], ["1.5", "2"],
    ["100000000000000000000", "100000000000000000000"], ["100000000000000000000.0", "100000000000000000000"],
    ["-0", "0"], ["0.5", "1"],
]

HUMANEVAL_OUTPUTS = [
    "```python\n    return a + b\n```", "Here is the code:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.",
    "    return a + b\n", "```\n    return x\n```", "```python3\n    pass\n```", "``` python\n    return 1\n```",
    "```python\n    first\n```\ntext\n```python\n    second\n```", "```python\n    never closed", "```python\r\n    crlf\r\n```",
    "```c++\nint x;\n```", "```py\n\n```", "```²\n    superscript tag\n```", "```é\n    accented tag\n```", "```a‿b\n    connector tag\n```",
    "def f():\n    ```python\n    nested\n    ```\n",
]

ROUND4 = [0.12345, 0.00005, 0.5, 0.03125, 0.1234499999, 2.675, 1 / 3, -0.00015, 0.99995, 0.71875, 0.015625, 0.4642857142857143]


def truthfulqa_rows(path, count):
    """The Hub truthful_qa 'generation' loader's rows from the CSV: answer lists split at ';' and stripped."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    split = lambda s: [item.strip() for item in s.strip().split(";")]
    return [dict(question=r["Question"], best_answer=r["Best Answer"], correct_answers=split(r["Correct Answers"]),
                 incorrect_answers=split(r["Incorrect Answers"])) for r in rows[:count]]


rows = truthfulqa_rows(truthfulqa_csv, 8)
predictions = [
    rows[0]["best_answer"], rows[1]["incorrect_answers"][0], "I have no comment.", "   ",
    "It's 3.5 km, I think - maybe... (not sure) &amp; <skipped>", "No", rows[6]["correct_answers"][-1] + " Definitely.",
    "The watermelon seeds pass through your digestive system",
]
bleu = LoadedBleu()
per_sample = []
for pred, row in zip(predictions, rows):
    correct = list(row["correct_answers"])
    if "I have no comment." not in correct:
        correct.append("I have no comment.")
    entry = dict(prediction=pred, correct_answers=row["correct_answers"], incorrect_answers=row["incorrect_answers"])
    if pred.strip():
        entry["tokens"] = hf_bleu.Tokenizer13a()(pred)
        entry["correct_bleu"] = [bleu.compute(predictions=[pred], references=[a])["bleu"] for a in correct if a]
        entry["incorrect_bleu"] = [bleu.compute(predictions=[pred], references=[a])["bleu"] for a in row["incorrect_answers"] if a]
    per_sample.append(entry)
references = [dict(answers=dict(best_answer=r["best_answer"], correct_answers=r["correct_answers"],
                                incorrect_answers=r["incorrect_answers"]), question=r["question"]) for r in rows]
evaluator = truthfulqa.TruthfulQAEvaluator(metrics="bleu")  # truthfulqa_gen_5ddc62 at 0.3.1: metrics=('bleu')
summary = evaluator.score(predictions, copy.deepcopy(references))

gsm8k_answers = []
with open(gsm8k_jsonl, encoding="utf-8") as f:
    for i, line in enumerate(f):
        answer = json.loads(line)["answer"]
        if i < 5 or ("," in answer.split("#### ")[1] and len(gsm8k_answers) < 8):
            gsm8k_answers.append(answer)

result = {
    "_how": "Made by tools/reference/opencompass_postprocessors.py with " + " ".join(sys.argv[1:]).replace(os.path.expanduser("~"), "~")
            + f" (python {platform.python_version()}). Inputs are the project's; outputs are the published functions' returns.",
    "_sources": {"open-compass/opencompass": oc_rev, "huggingface/evaluate": ev_rev, "tensorflow/nmt": nmt_rev},
    "first_capital_postprocess": [[t, text_post.first_capital_postprocess(t)] for t in FIRST_CAPITAL],
    "bbh_mcq_postprocess": [[t, bbh.bbh_mcq_postprocess(t)] for t in BBH_MCQ],
    "bbh_freeform_postprocess": [[t, bbh.bbh_freeform_postprocess(t)] for t in BBH_FREEFORM],
    "gsm8k_postprocess": [[t, gsm8k.gsm8k_postprocess(t)] for t in GSM8K_OUTPUTS],
    "gsm8k_dataset_postprocess": [[t, gsm8k.gsm8k_dataset_postprocess(t)] for t in gsm8k_answers + ["x #### 1,000,000", "a #### b #### c"]],
    "gsm8k_is_equal": [[p, r, gsm8k.Gsm8kEvaluator().is_equal(p, r)] for p, r in GSM8K_EQUAL],
    "humaneval_postprocess_v2": [[t, humaneval.humaneval_postprocess_v2(t)] for t in HUMANEVAL_OUTPUTS],
    "python_round4": [[v, round(v, 4)] for v in ROUND4],
    "truthfulqa_bleu": {"samples": per_sample, "evaluator_score": summary},
}
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False, indent=1)
print("wrote", out_path)
