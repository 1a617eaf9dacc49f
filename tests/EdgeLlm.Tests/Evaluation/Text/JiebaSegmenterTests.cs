using System.Text.Json;
using EdgeLlm.Evaluation.Text.Jieba;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation.Text;

/// <summary>EdgeLlm's segmenter against jieba.cut(text, cut_all=False) from Debian's python3-jieba, token for token.</summary>
public class JiebaSegmenterTests : TempDirectoryTest
{
    private const string CutScript = "import jieba\njieba.setLogLevel(60)\ntexts = json.load(sys.stdin)\nprint(json.dumps([list(jieba.cut(t, cut_all=False)) for t in texts]))";

    // Varied: dictionary words, unknown names (HMM), digits and decimals, English, punctuation (ASCII and
    // full-width), whitespace and newlines (incl. \r\n), symbols jieba keeps in Han blocks (+#&._%-), emoji.
    public static readonly string[] Texts =
    [
        "我来到北京清华大学",
        "他来到了网易杭研大厦",
        "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
        "我爱北京天安门。",
        "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
        "李小福是创新办主任也是云计算方面的专家; 什么是八一双鹿",
        "例如我输入一个带“韩玉赏鉴”的标题，在自定义词库中也增加了此词为N类",
        "「台中」正確應該不會被切開。mac上可分出「石墨烯」；此時又可以分出來凱特琳了。",
        "永和服装饰品有限公司",
        "我不喜欢日本和服。",
        "雷猴回归人间。",
        "结婚的和尚未结婚的",
        "江州市长江大桥参加了长江大桥的通车仪式",
        "2024年3月15日，气温达到了25.5℃，湿度为80%。",
        "iPhone 15 Pro的价格是7999元，比上一代贵了3.5%左右",
        "C++和C#都是编程语言，AT&T是一家公司，e-mail地址是test_user@example.com",
        "  前后有空格  ",
        "第一行\n第二行\r\n第三行\t制表符",
        "全角字符：ＡＢＣ１２３，（括号）【方括号】《书名号》",
        "张伟和王芳在上海浦东新区陆家嘴金融中心见面",
        "欧阳娜娜、司马懿和诸葛亮是历史人物吗？",
        "阿卜杜勒·拉赫曼访问了乌兰巴托",
        "The quick brown fox jumps over the lazy dog.",
        "Python3.11版本发布了，pip install jieba即可安装",
        "答案是：段落12",
        "他说：“你好！”然后离开了……",
        "１２３４５６７８９０",
        "表情符号😀测试🎉完毕",
        "混合English和中文mixed文本text",
        "数字123abc456和字母混排x1y2z3",
        "北京大学生前来应聘",
        "研究生命起源",
        "乒乓球拍卖完了",
        "下雨天留客天留我不留",
        "南京市长江大桥",
        "",
        " ",
        "\n\n",
        "。，、；：？！",
        "中华人民共和国成立于1949年10月1日",
        "他的电话号码是138-1234-5678，邮编100084",
        "这是一个非常非常非常长的句子，用来测试分词器在处理较长文本时的表现是否与原版完全一致，包括各种标点符号和数字1、2、3。",
        "维基百科（英语：Wikipedia）是一个自由内容、公开编辑且多语言的网络百科全书协作计划",
        "蔡英文和特朗普通电话",
        "王小二在东北偏北的地方卖茄子和西红柿",
        "鑫淼焱垚犇骉是少见的字",
        "a.b.c 1.2.3 50% 0.5% x-y_z",
    ];

    private static void AssertSameAsJieba(IReadOnlyList<string> texts)
    {
        var expected = DebianPython.Run(CutScript, texts, "jieba", "python3-jieba");
        var segmenter = JiebaSegmenter.Default;
        for (int i = 0; i < texts.Count; i++)
        {
            var want = expected[i].EnumerateArray().Select(t => t.GetString()!).ToArray();
            Assert.True(want.SequenceEqual(segmenter.Cut(texts[i])),
                $"text {i} {JsonSerializer.Serialize(texts[i])}\njieba:   {JsonSerializer.Serialize(want)}\nEdgeLlm: {JsonSerializer.Serialize(segmenter.Cut(texts[i]))}");
        }
    }

    [Fact]
    public void VariedTextsMatchJieba() => AssertSameAsJieba(Texts);

    [Fact]
    public void ChidPassagesMatchJieba()
    {
        var texts = new List<string>();
        foreach (var line in File.ReadLines(SharedData.Path("datasets", "chid", "dev_few_all.json")))
        {
            using var item = JsonDocument.Parse(line);
            texts.Add(item.RootElement.GetProperty("content").GetString()!);
            texts.AddRange(item.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetString()!));
        }
        Assert.True(texts.Count > 1000);
        AssertSameAsJieba(texts);
    }

    [Fact]
    public void MissingDataNamesTheFileAndThePackage()
    {
        var error = Assert.Throws<FileNotFoundException>(() => JiebaSegmenter.Load(Temp));
        Assert.Contains(Path.Combine(Temp, "dict.txt"), error.Message);
        Assert.Contains("python3-jieba", error.Message);
    }
}
