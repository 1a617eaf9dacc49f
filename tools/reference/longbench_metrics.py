"""Reference scores for EdgeLlm's LongBench metrics, computed by OpenCompass 0.3.1's own evaluators.

  git --git-dir=ROUGE_GIT archive HEAD | tar -x -C /tmp/rouge                      # pltrdy/rouge 1.0.1
  git --git-dir=OC_GIT archive 0.3.1 opencompass/datasets/longbench | tar -x -C /tmp/oc
  /usr/bin/python3 tools/reference/longbench_metrics.py --rouge /tmp/rouge --opencompass /tmp/oc \
      --rouge-commit SHA --opencompass-commit SHA --out tests/EdgeLlm.Tests/References/longbench-metrics.json

Runs under Debian's python3 with python3-jieba and python3-fuzzywuzzy (+ python3-levenshtein, python3-six).
OpenCompass itself is not installed: its evaluators.py is loaded from the checkout unchanged, with
stand-ins for the two framework names it imports (BaseEvaluator, ICL_EVALUATORS); the prediction
post-processors are taken from the subsets' dataset files the same way. The metric code is therefore
OpenCompass's, and the packages under it are the real rouge, jieba and fuzzywuzzy.

Each case is scored by calling the evaluator at the stack depth OpenCompass's eval task calls it
(script module -> run -> _score -> evaluator.score), because rouge's recursive LCS back-trace raises
RecursionError (scored 0 by the evaluator) at a depth that counts the frames below it.
"""
import argparse, ast, importlib.metadata, importlib.util, json, platform, sys, types


def frame_depth():
    frame, depth = sys._getframe(1), 0
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def load_evaluators(oc_root):
    base = types.ModuleType("opencompass.openicl.icl_evaluator")
    base.BaseEvaluator = type("BaseEvaluator", (), {"__init__": lambda self: None})
    registry = types.ModuleType("opencompass.registry")
    registry.ICL_EVALUATORS = types.SimpleNamespace(register_module=lambda *a, **k: (lambda cls: cls))
    for name in ["opencompass", "opencompass.openicl"]:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["opencompass.openicl.icl_evaluator"] = base
    sys.modules["opencompass.registry"] = registry
    path = f"{oc_root}/opencompass/datasets/longbench/evaluators.py"
    spec = importlib.util.spec_from_file_location("longbench_evaluators", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_postprocessor(oc_root, file_name, function_name):
    path = f"{oc_root}/opencompass/datasets/longbench/{file_name}"
    tree = ast.parse(open(path, encoding="utf-8").read())
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function_name)
    function.decorator_list = []
    namespace = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), path, "exec"), namespace)
    return namespace[function_name]


# subset -> (evaluator class, constructor kwargs, post-processor (file, function) or None), as configured in
# configs/datasets/longbench/longbench*/longbench_*_gen_*.py at 0.3.1.
SUBSETS = {
    "narrativeqa": ("LongBenchF1Evaluator", {}, None),
    "qasper": ("LongBenchF1Evaluator", {}, None),
    "multifieldqa_en": ("LongBenchF1Evaluator", {}, None),
    "multifieldqa_zh": ("LongBenchF1Evaluator", {"language": "zh"}, None),
    "hotpotqa": ("LongBenchF1Evaluator", {}, None),
    "2wikimqa": ("LongBenchF1Evaluator", {}, None),
    "musique": ("LongBenchF1Evaluator", {}, None),
    "triviaqa": ("LongBenchF1Evaluator", {}, ("longbench_trivia_qa.py", "triviaqa_postprocess")),
    "trec": ("LongBenchClassificationEvaluator", {}, ("longbench_trec.py", "trec_postprocess")),
    "lsht": ("LongBenchClassificationEvaluator", {}, ("longbench_lsht.py", "lsht_postprocess")),
    "passage_count": ("LongBenchCountEvaluator", {}, None),
    "passage_retrieval_en": ("LongBenchRetrievalEvaluator", {}, None),
    "passage_retrieval_zh": ("LongBenchRetrievalEvaluator", {"language": "zh"}, None),
    "gov_report": ("LongBenchRougeEvaluator", {}, None),
    "qmsum": ("LongBenchRougeEvaluator", {}, None),
    "multi_news": ("LongBenchRougeEvaluator", {}, None),
    "samsum": ("LongBenchRougeEvaluator", {}, ("longbench_samsum.py", "samsum_postprocess")),
    "vcsum": ("LongBenchRougeEvaluator", {"language": "zh"}, None),
    "dureader": ("LongBenchRougeEvaluator", {"language": "zh"}, None),
    "lcc": ("LongBenchCodeSimEvaluator", {}, None),
    "repobench-p": ("LongBenchCodeSimEvaluator", {}, None),
}

ZH_A = "会议讨论了下一季度的产品规划，张经理提出要加快新功能的研发进度。李工程师认为测试资源不足，需要增加人手。最后大家同意先完成核心模块，再安排测试。"
ZH_B = "本次会议主要讨论产品规划。张经理希望加快研发，李工程师提出测试人手不够。会议决定优先完成核心模块，随后安排测试工作。"
EN_A = "The committee reviewed the budget. It approved funding for the new library, but delayed the road repairs until spring."
EN_B = "The committee approved the library funding and postponed road repairs to the spring. The budget was reviewed in detail."
CODE_REF = "        self.assertEqual(result.status_code, 200)"
LONG_LINE = "x = compute(" + ", ".join(f"arg{i}" for i in range(60)) + ")"


def words(count, prefix="w"):
    return " ".join(f"{prefix}{i}" for i in range(count))


def qa(pred, answers):
    return {"prediction": pred, "answers": answers, "all_classes": []}


def cases():
    c = {}
    for name in ["narrativeqa", "qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "musique"]:
        c[name] = [qa("The Eiffel Tower!", ["Eiffel Tower in Paris"]), qa("paris", ["London", "Paris."]),
                   qa("", ["x"]), qa("an the a", ["the answer"]), qa("Yes, it was\tin 1999.", ["yes", "1999"])]
    c["triviaqa"] = [qa("\n\nParis\nQuestion: next", ["Paris", "paris france"]), qa("London is big", ["London"])]
    c["multifieldqa_zh"] = [qa("我来到北京清华大学", ["他来到北京大学"]), qa("北京。", ["北京市"]),
                            qa("答案是：张三和李四", ["张三", "李四"]), qa("", ["任何"]), qa("2024年3月15日", ["2024年3月15号"]),
                            qa("iPhone 15 Pro的价格是7999元", ["7999元"]), qa(ZH_A, [ZH_B])]
    trec = ["Entity", "Entity_other", "Location", "Human being"]
    c["trec"] = [{"prediction": "Entity_other\nmore", "answers": ["Entity_other"], "all_classes": trec},
                 {"prediction": "\nLocation or Entity", "answers": ["Location"], "all_classes": trec},
                 {"prediction": "nothing", "answers": ["Location"], "all_classes": trec}]
    lsht = ["体育", "财经", "体育新闻", "娱乐"]
    c["lsht"] = [{"prediction": "体育新闻", "answers": ["体育新闻"], "all_classes": lsht},
                 {"prediction": "财经\n体育", "answers": ["财经"], "all_classes": lsht}]
    c["passage_count"] = [qa("12 or 7", ["7"]), qa("none", ["7"]), qa("7", ["7"])]
    c["passage_retrieval_en"] = [qa("Paragraph 3, not 4 or 5", ["Paragraph 3"]), qa("Paragraph 12", ["Paragraph 12"])]
    c["passage_retrieval_zh"] = [qa("段落12", ["段落12"]), qa("答案是段落3和段落30", ["段落3"])]
    rouge_en = [
        qa("the cat sat on the mat", ["the cat is on the mat"]),
        qa(EN_A, [EN_B]), qa(EN_B, [EN_A, "Nothing relevant here."]),
        qa("The Cat. the cat.", ["the cat"]),                       # case kept, repeated sentences
        qa("a. . b", ["a b"]),                                      # a blank sentence becomes the word ""
        qa("", ["anything"]), qa("...", ["anything"]), qa("text", ["..."]),  # the package raises: 0
        qa("x\u3000y\x1cz\n\nw", ["x y z w"]),                      # Python whitespace
        qa(words(120) + ". " + words(50, "v"), [words(80) + ". " + words(70, "v")]),
        qa(words(988), [words(988)]), qa(words(989), [words(989)]), qa(words(990), [words(990)]),  # recursion limit
        qa(words(1500), [words(400) + " end"]),
    ]
    c["gov_report"] = rouge_en
    c["qmsum"] = rouge_en[:5]
    c["multi_news"] = rouge_en[5:]
    c["samsum"] = [qa("\nJohn will bring the cake. Mary buys drinks.\nDialogue: more", ["John brings cake and Mary buys drinks."]),
                   qa("Tom is late", ["Tom will be late."])]
    rouge_zh = [
        qa(ZH_A, [ZH_B]), qa(ZH_B, [ZH_A, ZH_B]),                   # two references: the prediction is re-cut
        qa("", [ZH_A]), qa("他来到了网易杭研大厦。", ["他到了杭研大厦"]),
        qa("会议在3.5小时内结束. 李工程师发言", ["会议结束. 李工程师"]),  # '.' splits sentences after segmentation
        qa(ZH_A * 12, [ZH_B * 2]), qa(ZH_A * 30, [ZH_A * 30]),     # long single sentences (recursion limit)
    ]
    c["vcsum"] = rouge_zh
    c["dureader"] = rouge_zh[:5]
    code = [
        qa("        self.assertEqual(result.status_code, 200)\n", [CODE_REF]),
        qa("\n\n# comment\n        self.assertEqual(result.status, 200)", [CODE_REF]),
        qa("```python\n// note\nreturn a+b\n", ["return a + b"]),
        qa("# only\n// comments\n`x`", ["return 1"]),               # no line qualifies: ""
        qa("", [""]), qa("x", [""]), qa("", ["x"]),                  # fuzz's equal / empty rules
        qa("abcdefgh", ["aijklmno"]), qa("abcdefgh", ["aijkmnoh"]), # 12.5 and 25: half-to-even rounding
        qa(LONG_LINE, [LONG_LINE.replace("arg1", "argument1")]),   # over 200 characters
        qa(LONG_LINE[::-1], [LONG_LINE]),
        qa("print('😀 done')", ["print('😁 done')"]), qa("名字 = '张三'", ["名字 = '李四'"]),
        qa("return x", ["return y", "return x"]),
    ]
    c["lcc"] = code
    c["repobench-p"] = code[:6]
    return c


def score_case(evaluator, prediction, reference):
    assert frame_depth() == 3, "the evaluator must be called at OpenCompass's depth (module, run, _score)"
    return evaluator.score([prediction], [reference])["score"]


def score_subset(evaluator, predictions, references):
    assert frame_depth() == 3
    return evaluator.score(predictions, references)["score"]


def main():
    parser = argparse.ArgumentParser()
    for flag in ["--rouge", "--opencompass", "--rouge-commit", "--opencompass-commit", "--out"]:
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.rouge)
    import fuzzywuzzy, jieba, rouge
    jieba.setLogLevel(60)
    evaluators = load_evaluators(args.opencompass)
    out_cases, out_subsets = [], {}
    for subset, items in cases().items():
        class_name, kwargs, post = SUBSETS[subset]
        evaluator = getattr(evaluators, class_name)(**kwargs)
        postprocess = load_postprocessor(args.opencompass, *post) if post else (lambda text: text)
        predictions, references = [], []
        for item in items:
            extracted = postprocess(item["prediction"])
            reference = item["answers"]
            if class_name == "LongBenchClassificationEvaluator":
                reference = {"answers": item["answers"], "all_classes": item["all_classes"]}
            score = score_case(evaluator, extracted, reference)
            predictions.append(extracted)
            references.append(reference)
            out_cases.append({"subset": subset, **item, "extracted": extracted, "score": score})
        out_subsets[subset] = {"cases": len(items), "score": score_subset(evaluator, predictions, references)}
    header = {
        "made_by": "/usr/bin/python3 tools/reference/longbench_metrics.py " + " ".join(sys.argv[1:]),
        "what": "OpenCompass 0.3.1 opencompass/datasets/longbench/evaluators.py (unchanged) and the subsets' "
                "pred_postprocessors, on each case alone ('score', 0-100) and on each subset's cases together",
        "python": platform.python_version(),
        "opencompass_commit": args.opencompass_commit,
        "rouge": f"pltrdy/rouge {getattr(rouge, '__version__', '?')} commit {args.rouge_commit}",
        "jieba": jieba.__version__ + " (Debian python3-jieba)",
        "fuzzywuzzy": fuzzywuzzy.__version__ + " (Debian python3-fuzzywuzzy), fuzz.SequenceMatcher from " + __import__("fuzzywuzzy.fuzz").fuzz.SequenceMatcher.__module__,
        "python-Levenshtein": importlib.metadata.version("python-Levenshtein") + " (Debian python3-levenshtein)",
        "six": importlib.metadata.version("six"),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"header": header, "subsets": out_subsets, "cases": out_cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
