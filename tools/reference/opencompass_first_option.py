"""Runs OpenCompass's own first_option_postprocess (options 'ABCD', as mmlu_gen_4d595a sets it) on fixed model outputs.

  /usr/bin/python3 tools/reference/opencompass_first_option.py OPENCOMPASS_TREE OC_REV OUT_JSON

OPENCOMPASS_TREE is an export of open-compass/opencompass at tag 0.3.1 (`git archive 5485207 opencompass`); OC_REV
is only recorded. text_postprocessors.py is loaded alone with stubbed imports (reference_modules.py).
The inputs below are written by this project; the outputs are what the published function returns.
"""
import json
import os
import platform
import sys

from reference_modules import load_file, stub_modules

oc_tree, oc_rev, out_path = sys.argv[1:4]
stub_modules("opencompass.registry", "opencompass.utils")
text_post = load_file(os.path.join(oc_tree, "opencompass", "utils", "text_postprocessors.py"),
                      "opencompass.utils.text_postprocessors")

# English and Chinese answers, each pattern family, order effects (options' order wins inside one match),
# the concatenated '故选…只有选项' pattern, Python-only whitespace (U+001C), no answer at all.
FIRST_OPTION = [
    "A", " B ", "The answer is C.", "The answer is (D)", "the answer is: B", "The correct answer is option A",
    "The correct answer is \\boxed{C}", "The correct option is clearly \\boxed{D}.", "The answer to the question is (B)",
    "答案是C", "答案是：D", "答案: A", "答案选项应该是 B", "答案应选 C", "答案为D。", "故选B只有选项A是对", "故选B",
    "只有选项 C 是错", "说法不正确的是 D", "B是正确的", "选项 A 正确", "所以答 C", "所以D。", "因此B", "显然 A.", "我选择 D",
    "Let me think.\nAnswer: C", "I think D is right, but B is wrong", "BCD are wrong", "None of them", "", "   ",
    "Option 1. B", "1. C", "答案是正确的", "The answer is e", "Dear reader, the best answer is A", "ABCD",
    "It must be the case that the answer is B\n\nQuestion: next", "（B）", "\x1cC", "\u00a0D\u3000",
    "The answer is:\n\n (C)", "So the answer is D\nA is wrong", "abc d", "Final: D,", "所有A", "正确答案是 B，因为 A 不对",
    "Answer: B. Because C and D", "D) Paris", "b", "The answer is $\\boxed{A}$", "I choose option C\x1f", "1.\n2. D",
]

result = {
    "_how": "Made by tools/reference/opencompass_first_option.py with " + " ".join(sys.argv[1:])
            + f" (python {platform.python_version()}). Inputs are the project's; outputs are the published function's returns.",
    "_sources": {"open-compass/opencompass": oc_rev},
    "first_option_postprocess_ABCD": [[t, text_post.first_option_postprocess(t, "ABCD")] for t in FIRST_OPTION],
}
tmp = out_path + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False, indent=1)
os.replace(tmp, out_path)
print(len(FIRST_OPTION), "cases ->", out_path)
