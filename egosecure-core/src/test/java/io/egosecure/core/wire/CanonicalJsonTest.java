package io.egosecure.core.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 8785 (JCS) as the signature needs it. The expected outputs are written out by hand from the
 * RFC, or computed with ECMAScript's {@code JSON.stringify} (the definition JCS builds on) for the
 * fixtures under {@code src/test/resources/fixtures/jcs}.
 */
class CanonicalJsonTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static String canonical(String json) {
    return new String(CanonicalJson.canonicalize(json), StandardCharsets.UTF_8);
  }

  private static String canonical(JsonNode json) {
    return new String(CanonicalJson.canonicalize(json), StandardCharsets.UTF_8);
  }

  // ---- RFC 8785 examples -------------------------------------------------------------------

  @Test
  void rfc8785Section322Example() {
    String input =
        "{\n"
            + "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
            + "              2e-3, 0.000000000000000000000000001],\n"
            + "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
            + "  \"literals\": [null, true, false]\n"
            + "}";

    // RFC 8785 3.2.2, as printed there (with the escape before 000f doubled for javac):
    // {"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],
    //  "string":"€$\\u000f\nA'B\"\\\\\"/"}
    String expected =
        "{\"literals\":[null,true,false],"
            + "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assertThat(canonical(input)).isEqualTo(expected);
  }

  @Test
  void rfc8785Section322ExampleUtf8Bytes() {
    String input = "{\"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"}";
    byte[] expected = {
      '{', '"', 's', 't', 'r', 'i', 'n', 'g', '"', ':', '"',
      (byte) 0xe2, (byte) 0x82, (byte) 0xac, // € in UTF-8, not escaped
      '$', '\\', 'u', '0', '0', '0', 'f', '\\', 'n', 'A', '\'', 'B',
      '\\', '"', '\\', '\\', '\\', '\\', '\\', '"', '/', '"', '}'
    };
    assertThat(CanonicalJson.canonicalize(input)).containsExactly(expected);
  }

  @Test
  void rfc8785Section323SortsPropertiesByUtf16CodeUnits() {
    String input =
        "{\n"
            + "  \"\\u20ac\": \"Euro Sign\",\n"
            + "  \"\\r\": \"Carriage Return\",\n"
            + "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
            + "  \"1\": \"One\",\n"
            + "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
            + "  \"\\u0080\": \"Control\",\n"
            + "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
            + "}";

    String expected =
        "{\"\\r\":\"Carriage Return\","
            + "\"1\":\"One\","
            + "\"\u0080\":\"Control\","
            + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
            + "\"\u20ac\":\"Euro Sign\","
            + "\"\ud83d\ude00\":\"Emoji: Grinning Face\","
            + "\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";
    assertThat(canonical(input)).isEqualTo(expected);
  }

  @Test
  void sortsByUtf16CodeUnitsNotByCodePoints() {
    // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB33 although its code point is higher;
    // sorting by code points (or by UTF-8 bytes) would put it last.
    assertThat(canonical("{\"\\ufb33\":1,\"\\ud83d\\ude00\":2}"))
        .isEqualTo("{\"\ud83d\ude00\":2,\"\ufb33\":1}");
  }

  @Test
  void sortsCaseSensitivelyAndDoesNotNormalizeUnicode() {
    // é precomposed (U+00E9) and decomposed (e U+0301) are two different keys.
    assertThat(canonical("{\"b\":1,\"a\":2,\"B\":3,\"A\":4,\"aa\":5,\"\\u00e9\":6,\"e\\u0301\":7}"))
        .isEqualTo("{\"A\":4,\"B\":3,\"a\":2,\"aa\":5,\"b\":1,\"e\u0301\":7,\"\u00e9\":6}");
  }

  // ---- numbers: ECMAScript Number.prototype.toString ---------------------------------------

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "1e30                   | 1e+30",
        "1E30                   | 1e+30",
        "1E+30                  | 1e+30",
        "4.50                   | 4.5",
        "2e-3                   | 0.002",
        "0.000001               | 0.000001",
        "0.0000001              | 1e-7",
        "1e-7                   | 1e-7",
        "0.000000000000000000000000001 | 1e-27",
        "-0                     | 0",
        "-0.0                   | 0",
        "0.0                    | 0",
        "0E0                    | 0",
        "2e23                   | 2e+23",
        "1e23                   | 1e+23",
        "1e21                   | 1e+21",
        "1e20                   | 100000000000000000000",
        "999999999999999999999  | 1e+21",
        "9007199254740991       | 9007199254740991",
        "-9007199254740991      | -9007199254740991",
        "9007199254740993       | 9007199254740992",
        "123456789012345678901234567890 | 1.2345678901234568e+29",
        "1.5                    | 1.5",
        "100                    | 100",
        "1E2                    | 100",
        "123e-20                | 1.23e-18",
        "0.1                    | 0.1",
        "0.30000000000000004    | 0.30000000000000004",
        "333333333.33333329     | 333333333.3333333",
        "-1.5e-9                | -1.5e-9",
        "1e-400                 | 0",
      })
  void numbersTakeTheirEs6Form(String input, String expected) {
    assertThat(canonical("[" + input + "]")).isEqualTo("[" + expected + "]");
  }

  /** RFC 8785 appendix B: IEEE 754 bit patterns and their canonical text. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "0000000000000000, 0",
    "8000000000000000, 0",
    "0000000000000001, 5e-324",
    "8000000000000001, -5e-324",
    "7fefffffffffffff, 1.7976931348623157e+308",
    "ffefffffffffffff, -1.7976931348623157e+308",
    "4340000000000000, 9007199254740992",
    "c340000000000000, -9007199254740992",
    "4430000000000000, 295147905179352830000",
    "44b52d02c7e14af5, 9.999999999999997e+22",
    "44b52d02c7e14af6, 1e+23",
    "44b52d02c7e14af7, 1.0000000000000001e+23",
    "444b1ae4d6e2ef4e, 999999999999999700000",
    "444b1ae4d6e2ef4f, 999999999999999900000",
    "444b1ae4d6e2ef50, 1e+21",
    "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d, 0.000001",
    "41b3de4355555553, 333333333.3333332",
    "41b3de4355555554, 333333333.33333325",
    "41b3de4355555555, 333333333.3333333",
    "41b3de4355555556, 333333333.3333334",
    "41b3de4355555557, 333333333.33333343",
    "becbf647612f3696, -0.0000033333333333333333",
    "43143ff3c1cb0959, 1424953923781206.2",
  })
  void rfc8785AppendixBNumbers(String bits, String expected) {
    double value = Double.longBitsToDouble(Long.parseUnsignedLong(bits, 16));
    // Double.toString is exact enough to round-trip, though not always the shortest form.
    assertThat(canonical("[" + value + "]")).isEqualTo("[" + expected + "]");
    assertThat(canonical(NODES.arrayNode().add(value))).isEqualTo("[" + expected + "]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"[1e400]", "[-1e400]", "[NaN]", "[Infinity]", "[-Infinity]"})
  void numbersOutsideDoubleRangeAreRejected(String input) {
    assertThatThrownBy(() -> CanonicalJson.canonicalize(input))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("cannot be canonicalised");
  }

  @Test
  void jacksonNumberNodesCanonicaliseByValue() {
    ObjectNode node = NODES.objectNode();
    node.put("negativeZero", -0.0);
    node.put("big", 1e21);
    node.put("twoE23", 2e23); // Java 17 prints 1.9999999999999998E23
    node.put("maxSafe", (1L << 53) - 1);
    node.put("decimal", new BigDecimal("4.50"));
    node.put("bigInteger", new BigInteger("1000000000000000000000"));
    node.put("small", 0.0000001);
    node.put("int", 7);

    assertThat(canonical(node))
        .isEqualTo(
            "{\"big\":1e+21,\"bigInteger\":1e+21,\"decimal\":4.5,\"int\":7,"
                + "\"maxSafe\":9007199254740991,\"negativeZero\":0,\"small\":1e-7,\"twoE23\":2e+23}");
  }

  // ---- strings -----------------------------------------------------------------------------

  @Test
  void controlCharactersUseShortEscapesOrLowercaseUnicodeEscapes() {
    String input =
        "[\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000B\\f\\r\\u000E\\u001F\"]";
    assertThat(canonical(input))
        .isEqualTo("[\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f\"]");
  }

  @Test
  void onlyQuoteAndBackslashAreEscapedBesidesControlCharacters() {
    assertThat(canonical("[\"\\\"quote\\\" \\\\back\\\\ \\/slash\\/\"]"))
        .isEqualTo("[\"\\\"quote\\\" \\\\back\\\\ /slash/\"]");
  }

  @Test
  void unicodeIsWrittenAsUtf8NotEscaped() {
    String input = "[\"\\u007f\\u0080\\u00e9\\u2028\\u2029\\ufeff\\u20ac\\ud83d\\ude00\\ud834\\udd1e\"]";
    String expected = "[\"\u007f\u0080\u00e9\u2028\u2029\ufeff\u20ac\ud83d\ude00\ud834\udd1e\"]";
    assertThat(canonical(input)).isEqualTo(expected);
    assertThat(CanonicalJson.canonicalize(input))
        .containsExactly(expected.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void rawAndEscapedFormsOfTheSameStringAreCanonicallyEqual() {
    assertThat(canonical("[\"é€😀/\"]"))
        .isEqualTo(canonical("[\"\\u00E9\\u20AC\\uD83D\\uDE00\\/\"]"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "[\"\\ud800\"]",
        "[\"x\\udfffy\"]",
        "[\"\\ude00\\ud83d\"]",
        "{\"\\ud83d\":1}",
        "[\"\\ud83d\\u0041\"]"
      })
  void loneSurrogatesAreRejected(String input) {
    // RFC 8785 3.2.2.2: invalid Unicode must stop canonicalisation, else it becomes '?' and two
    // different documents share one canonical form.
    assertThatThrownBy(() -> CanonicalJson.canonicalize(input))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("lone surrogate");
  }

  @Test
  void loneSurrogatesInJacksonTreesAreRejected() {
    ObjectNode node = NODES.objectNode().put("s", "a\ud800b");
    assertThatThrownBy(() -> CanonicalJson.canonicalize(node))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void stringGivesTheCanonicalQuotedForm() {
    assertThat(CanonicalJson.string("plain")).isEqualTo("\"plain\"");
    assertThat(CanonicalJson.string("")).isEqualTo("\"\"");
    assertThat(CanonicalJson.string("a\"b\\c/d")).isEqualTo("\"a\\\"b\\\\c/d\"");
    assertThat(CanonicalJson.string("\n\t\r\b\f\u0000\u001f\u000b"))
        .isEqualTo("\"\\n\\t\\r\\b\\f\\u0000\\u001f\\u000b\"");
    assertThat(CanonicalJson.string("€ é 😀 \u007f \u2028"))
        .isEqualTo("\"€ é 😀 \u007f \u2028\"");
    assertThat(CanonicalJson.string("2026-01-02T03:04:05.006Z"))
        .isEqualTo("\"2026-01-02T03:04:05.006Z\"");
  }

  @Test
  void stringMatchesTheCanonicalFormOfTheSameStringInADocument() {
    String value = "mixed \" \\ \u0001 € 😀";
    String document = canonical(NODES.objectNode().put("k", value));
    assertThat(document).isEqualTo("{\"k\":" + CanonicalJson.string(value) + "}");
  }

  @Test
  void stringRejectsLoneSurrogates() {
    assertThatThrownBy(() -> CanonicalJson.string("\udc00"))
        .isInstanceOf(ValidationException.class);
  }

  // ---- structure ---------------------------------------------------------------------------

  @Test
  void nestedObjectsAndArraysAreSortedAtEveryLevelAndArraysKeepTheirOrder() {
    String input =
        "{\"z\": {\"b\": [3, {\"y\": null, \"x\": [true, false, {}]}, []], \"a\": {\"d\": {\"c\": {}}}},"
            + " \"a\": [[[]], [{\"b\": 1, \"a\": 2}], {\"\": \"empty\", \" \": \"space\"}]}";
    assertThat(canonical(input))
        .isEqualTo(
            "{\"a\":[[[]],[{\"a\":2,\"b\":1}],{\"\":\"empty\",\" \":\"space\"}],"
                + "\"z\":{\"a\":{\"d\":{\"c\":{}}},\"b\":[3,{\"x\":[true,false,{}],\"y\":null},[]]}}");
  }

  @Test
  void insignificantWhitespaceIsRemovedAndSignificantWhitespaceKept() {
    String input = " {\t\"b\" :\r\n[ 1 ,\t2 ] ,\n\n \"a\"\t:\t\"  two  spaces  \" }\r\n";
    assertThat(canonical(input)).isEqualTo("{\"a\":\"  two  spaces  \",\"b\":[1,2]}");
  }

  @Test
  void jacksonTreesCanonicaliseLikeTheirText() {
    ObjectNode tree = NODES.objectNode();
    tree.put("zeta", "last");
    tree.putArray("list").add(2).add(1).addObject().put("y", 1).put("x", 2);
    tree.putNull("nothing");
    tree.put("alpha", true);

    assertThat(canonical(tree))
        .isEqualTo(
            "{\"alpha\":true,\"list\":[2,1,{\"x\":2,\"y\":1}],\"nothing\":null,\"zeta\":\"last\"}")
        .isEqualTo(canonical(tree.toPrettyString()));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "  \"x\"  | \"x\"",
        "1E30    | 1e+30",
        "-0.0    | 0",
        "null    | null",
        "true    | true",
        "false   | false",
        "{ }     | {}",
        "[ ]     | []",
      })
  void anyJsonValueCanBeCanonicalised(String input, String expected) {
    assertThat(canonical(input)).isEqualTo(expected);
  }

  @Test
  void scalarJacksonNodesCanBeCanonicalised() {
    assertThat(canonical(NODES.textNode("é\n"))).isEqualTo("\"é\\n\"");
    assertThat(canonical(NODES.numberNode(4.50))).isEqualTo("4.5");
    assertThat(canonical(NODES.nullNode())).isEqualTo("null");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1} {\"b\":2}",
        "{\"a\":1}x",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "1 2",
        "5],[6",
        "{'a':1}",
        "[\"a\tb\"]",
        "{\"a\":",
        "[.5]",
        "[+1]",
      })
  void malformedOrNonIJsonInputIsAValidationException(String input) {
    assertThatThrownBy(() -> CanonicalJson.canonicalize(input))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("cannot be canonicalised");
  }

  // ---- language-neutral fixtures ----------------------------------------------------------

  private static Path fixtures() throws URISyntaxException {
    URL url = CanonicalJsonTest.class.getResource("/fixtures/jcs");
    assertThat(url).as("fixtures/jcs on the test class path").isNotNull();
    return Path.of(url.toURI());
  }

  private static List<Path> fixtureFiles(String suffix) throws IOException, URISyntaxException {
    try (Stream<Path> files = Files.list(fixtures())) {
      return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  static Stream<Arguments> validFixtures() throws IOException, URISyntaxException {
    List<Path> inputs = fixtureFiles(".input.json");
    assertThat(inputs).hasSizeGreaterThanOrEqualTo(10);
    return inputs.stream()
        .map(
            input -> {
              String name = input.getFileName().toString().replace(".input.json", "");
              return Arguments.of(name, input, input.resolveSibling(name + ".expected.json"));
            });
  }

  static Stream<Arguments> invalidFixtures() throws IOException, URISyntaxException {
    List<Path> inputs = fixtureFiles(".invalid.json");
    assertThat(inputs).hasSizeGreaterThanOrEqualTo(5);
    return inputs.stream().map(f -> Arguments.of(f.getFileName().toString(), f));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validFixtures")
  void fixtureCanonicalisesToItsExpectedBytes(String name, Path input, Path expected)
      throws IOException {
    assertThat(expected).as("every NAME.input.json has a NAME.expected.json").exists();
    byte[] expectedBytes = Files.readAllBytes(expected);
    String text = Files.readString(input, StandardCharsets.UTF_8);

    assertThat(CanonicalJson.canonicalize(text)).containsExactly(expectedBytes);
    // The same through a Jackson tree, which is how the server and verifiers use it.
    assertThat(CanonicalJson.canonicalize(Json.readTree(text.getBytes(StandardCharsets.UTF_8))))
        .containsExactly(expectedBytes);
    // Canonical output is a fixed point.
    assertThat(CanonicalJson.canonicalize(new String(expectedBytes, StandardCharsets.UTF_8)))
        .containsExactly(expectedBytes);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFixtures")
  void invalidFixtureIsRejected(String name, Path input) throws IOException {
    String text = Files.readString(input, StandardCharsets.UTF_8);
    assertThatThrownBy(() -> CanonicalJson.canonicalize(text))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void everyExpectedFixtureHasItsInput() throws IOException, URISyntaxException {
    for (Path expected : fixtureFiles(".expected.json")) {
      String name = expected.getFileName().toString().replace(".expected.json", "");
      assertThat(expected.resolveSibling(name + ".input.json")).exists();
    }
  }
}
