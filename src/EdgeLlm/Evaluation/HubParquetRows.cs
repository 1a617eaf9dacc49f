using System.Text.Json.Serialization;

namespace EdgeLlm.Evaluation;

// Row layouts of the Hugging Face Hub's parquet files for the datasets the tasks read
// (column names as the Hub's dataset cards list them).

/// <summary>tau/commonsense_qa: id, question, question_concept, choices {label[], text[]}, answerKey.</summary>
public sealed class CommonsenseQaParquetRow
{
    [JsonPropertyName("question")] public string? Question { get; set; }
    [JsonPropertyName("choices")] public ChoiceLists? Choices { get; set; }
    [JsonPropertyName("answerKey")] public string? AnswerKey { get; set; }

    public sealed class ChoiceLists
    {
        [JsonPropertyName("label")] public List<string>? Label { get; set; }
        [JsonPropertyName("text")] public List<string>? Text { get; set; }
    }
}

/// <summary>openai/gsm8k, config "main": question, answer.</summary>
public sealed class Gsm8kParquetRow
{
    [JsonPropertyName("question")] public string? Question { get; set; }
    [JsonPropertyName("answer")] public string? Answer { get; set; }
}

/// <summary>truthfulqa/truthful_qa, config "generation": type, category, question, best_answer, correct_answers[], incorrect_answers[], source.</summary>
public sealed class TruthfulQaParquetRow
{
    [JsonPropertyName("question")] public string? Question { get; set; }
    [JsonPropertyName("correct_answers")] public List<string>? CorrectAnswers { get; set; }
    [JsonPropertyName("incorrect_answers")] public List<string>? IncorrectAnswers { get; set; }
}
