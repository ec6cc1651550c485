package io.egosecure.examples.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * What commands print: aligned tables and {@code key: value} blocks for people, the server's
 * JSON (pretty-printed) with {@code --json} for scripts.
 */
final class Output {
  private static final ObjectWriter PRETTY = new ObjectMapper().writerWithDefaultPrettyPrinter();

  /** A table column: its header and how to show a row's value. */
  record Column(String header, Function<JsonNode, String> value) {
    /** The member as text; absent or null shows as "-". */
    static Column of(String header, String member) {
      return new Column(header, row -> text(row.get(member)));
    }
  }

  private final PrintWriter out;
  private final boolean json;

  Output(PrintWriter out, boolean json) {
    this.out = out;
    this.json = json;
  }

  boolean json() {
    return json;
  }

  /** A list: a table, or the JSON array of items. */
  void table(JsonNode items, Column... columns) {
    if (json) {
      printJson(items);
      return;
    }
    if (items.isEmpty()) {
      out.println("(none)");
      out.flush();
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(Arrays.stream(columns).map(Column::header).toArray(String[]::new));
    for (JsonNode item : items) {
      rows.add(Arrays.stream(columns).map(c -> oneLine(c.value().apply(item))).toArray(String[]::new));
    }
    int[] widths = new int[columns.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - row[i].length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  /** One object: {@code label: value} lines, or its JSON. */
  void fields(JsonNode object, Column... fields) {
    if (json) {
      printJson(object);
      return;
    }
    int width = Arrays.stream(fields).mapToInt(f -> f.header().length()).max().orElse(0);
    for (Column field : fields) {
      out.println(field.header() + ":" + " ".repeat(width - field.header().length() + 1) + field.value().apply(object));
    }
    out.flush();
  }

  /** A sentence for people; nothing in JSON mode, unless {@code jsonBody} is given. */
  void message(String text, JsonNode jsonBody) {
    if (json) {
      if (jsonBody != null) {
        printJson(jsonBody);
      }
      return;
    }
    out.println(text);
    out.flush();
  }

  /** Printed after a secret: the server keeps only a hash of it. */
  void secretNotice(String what) {
    if (!json) {
      out.println("Save the " + what + " now: the server stores only its hash and cannot show it again.");
      out.flush();
    }
  }

  void printJson(JsonNode node) {
    try {
      out.println(PRETTY.writeValueAsString(node));
      out.flush();
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String text(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "-";
    }
    if (value.isArray()) {
      List<String> parts = new ArrayList<>();
      value.forEach(v -> parts.add(text(v)));
      return parts.isEmpty() ? "-" : String.join(",", parts);
    }
    if (value.isObject()) {
      return value.toString();
    }
    return value.asText();
  }

  private static String oneLine(String text) {
    return text.replaceAll("[\\r\\n\\t]+", " ");
  }
}
