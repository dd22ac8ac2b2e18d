import java.nio.file.Files;
import java.nio.file.Path;
import org.languagetool.JLanguageTool;
import org.languagetool.Languages;
import org.languagetool.rules.RuleMatch;

/**
 * Checks French text files with LanguageTool's default French rules and prints every match as
 * one JSON array: file, rule id, message, the matched text and its sentence.
 * Usage: java -cp <classes>:<jars>/* LtCheck FILE...
 */
public class LtCheck {
    public static void main(String[] args) throws Exception {
        JLanguageTool tool = new JLanguageTool(Languages.getLanguageForShortCode("fr"));
        StringBuilder out = new StringBuilder("[");
        boolean first = true;
        for (String arg : args) {
            String text = Files.readString(Path.of(arg));
            for (RuleMatch match : tool.check(text)) {
                if (!first) {
                    out.append(",");
                }
                first = false;
                String sentence = match.getSentence() == null ? "" : match.getSentence().getText();
                out.append("{\"file\":").append(quote(arg))
                    .append(",\"rule\":").append(quote(match.getRule().getId()))
                    .append(",\"message\":").append(quote(match.getMessage()))
                    .append(",\"text\":")
                    .append(quote(text.substring(match.getFromPos(), match.getToPos())))
                    .append(",\"sentence\":").append(quote(sentence.strip()))
                    .append("}");
            }
        }
        System.out.println(out.append("]"));
    }

    private static String quote(String value) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append("\"").toString();
    }
}
