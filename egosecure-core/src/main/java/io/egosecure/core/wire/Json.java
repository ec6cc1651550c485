package io.egosecure.core.wire;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.egosecure.core.ValidationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes the v1 wire messages. Reading is strict about types (no {@code "5"} for 5, no
 * number for a string, no duplicate keys, nothing after the document) and raises a {@link
 * ValidationException} naming the JSON pointer of the first problem, which transports answer
 * with 400.
 *
 * <p>Admin requests use {@link Strictness#REJECT_UNKNOWN_FIELDS}; agent requests and everything
 * an agent reads use {@link Strictness#IGNORE_UNKNOWN_FIELDS}, so fields can be added in v1.
 *
 * <pre>{@code
 * EnrollRequest request = Json.read(body, EnrollRequest.class, Strictness.IGNORE_UNKNOWN_FIELDS);
 * byte[] answer = Json.write(response);
 * }</pre>
 */
public final class Json {
  private static final int MAX_DETAIL = 300;

  /** How a reader treats members the message type does not name. */
  public enum Strictness {
    /** Unknown members are an error: admin requests, where a typo must not pass silently. */
    REJECT_UNKNOWN_FIELDS,
    /** Unknown members are skipped: agent traffic, so v1 can grow without breaking agents. */
    IGNORE_UNKNOWN_FIELDS
  }

  private static final Pattern TOKEN_NOTE = Pattern.compile(" ?\\(token `[^`]*`\\)");
  private static final Pattern QUOTED_JAVA_NAME = Pattern.compile("`([^`]*)`");
  private static final Pattern QUALIFIED_NAME = Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+([A-Z][\\w$]*)");
  private static final JsonMapper STRICT = mapper(true);
  private static final JsonMapper LENIENT = mapper(false);

  private Json() {}

  private static JsonMapper mapper(boolean rejectUnknown) {
    JsonMapper mapper =
        JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .addModule(new SimpleModule().addDeserializer(Instant.class, new InstantReader()))
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Not FAIL_ON_NULL_CREATOR_PROPERTIES: it rejects every absent optional member
            // (labels, message, comment, maxUses, ...). The records' constructors say what is
            // required; missing primitives still fail through FAIL_ON_NULL_FOR_PRIMITIVES.
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, rejectUnknown)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            // A null inside a list or map of strings ("groups": [null]) is a wrong type, not an
            // NPE in List.copyOf; JSON trees (settings) keep their nulls.
            .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
            .build();
    for (LogicalType type :
        new LogicalType[] {LogicalType.Textual, LogicalType.Integer, LogicalType.Float,
          LogicalType.Boolean, LogicalType.DateTime, LogicalType.Enum}) {
      mapper
          .coercionConfigFor(type)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Integer, type == LogicalType.Integer
              || type == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, type == LogicalType.Float
              ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Boolean, type == LogicalType.Boolean
              ? CoercionAction.TryConvert : CoercionAction.Fail);
    }
    return mapper;
  }

  /**
   * Parses {@code body} as a {@code type}.
   *
   * @throws ValidationException naming the JSON pointer of the first problem
   */
  public static <T> T read(byte[] body, Class<T> type, Strictness strictness) {
    try {
      T value = mapperFor(strictness).readValue(body, type);
      if (value == null) {
        throw new ValidationException("/", "must be a JSON object, not null");
      }
      return value;
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  /** Parses {@code body} as a JSON tree, for callers (signature checks) that need every member. */
  public static JsonNode readTree(byte[] body) {
    try {
      JsonNode node = LENIENT.readTree(body);
      if (node == null || node.isMissingNode()) {
        throw new ValidationException("/", "the body is empty");
      }
      return node;
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  /** Serialises a message as UTF-8 JSON. */
  public static byte[] write(Object message) {
    try {
      return LENIENT.writeValueAsBytes(message);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialise " + message.getClass().getName(), e);
    }
  }

  /** Converts between a tree and a message type with the same strict rules as {@link #read}. */
  public static <T> T convert(JsonNode tree, Class<T> type, Strictness strictness) {
    try {
      return mapperFor(strictness).treeToValue(tree, type);
    } catch (IOException | IllegalArgumentException e) {
      throw invalid(e);
    }
  }

  /** The tree of a message, as {@link #write} would write it. */
  public static ObjectNode toTree(Object message) {
    return LENIENT.valueToTree(message);
  }

  /** A new empty JSON object. */
  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  private static JsonMapper mapperFor(Strictness strictness) {
    return strictness == Strictness.REJECT_UNKNOWN_FIELDS ? STRICT : LENIENT;
  }

  private static ValidationException invalid(Exception e) {
    if (e instanceof ValueInstantiationException vie
        && vie.getCause() instanceof ValidationException cause) {
      return new ValidationException(
          memberPointer(pointer(vie), cause.field()), trimmedMessage(cause));
    }
    if (e instanceof ValidationException validation) {
      return validation;
    }
    if (e instanceof JsonParseException parse) {
      return new ValidationException("/", "is not valid JSON: " + clip(parse.getOriginalMessage()));
    }
    if (e instanceof UnrecognizedPropertyException unknown) {
      return new ValidationException(pointer(unknown), "is not a field of this message");
    }
    if (e instanceof InvalidFormatException format && format.getTargetType() != null
        && format.getTargetType().isEnum()) {
      return new ValidationException(pointer(format), "must be one of "
          + Arrays.toString(format.getTargetType().getEnumConstants()) + ", was "
          + clip(String.valueOf(format.getValue())));
    }
    if (e instanceof JsonMappingException mapping) {
      String detail = mapping.getOriginalMessage();
      if (detail != null && detail.startsWith("No content to map")) {
        return new ValidationException("/", "the body is empty");
      }
      return new ValidationException(pointer(mapping), clip(detail));
    }
    if (e instanceof JacksonException jackson) {
      return new ValidationException("/", clip(jackson.getOriginalMessage()));
    }
    return new ValidationException("/", clip(String.valueOf(e.getMessage())));
  }

  /** What a Java type Jackson names is in JSON. */
  private static String jsonKind(String javaName) {
    String name = javaName.replaceAll("<.*", "");
    String simple = name.substring(name.lastIndexOf('.') + 1);
    if (javaName.contains("(")) {
      return "a server limit";
    }
    if (javaName.endsWith("[]") || simple.endsWith("List") || simple.endsWith("Set") || simple.endsWith("Collection")) {
      return "an array";
    }
    return switch (simple) {
      case "String", "char", "Character" -> "a string";
      case "int", "long", "short", "byte", "Integer", "Long", "Short", "Byte", "BigInteger" -> "a whole number";
      case "double", "float", "Double", "Float", "BigDecimal", "Number" -> "a number";
      case "boolean", "Boolean" -> "true or false";
      case "Instant", "OffsetDateTime", "ZonedDateTime" -> "an RFC 3339 time";
      default -> "an object";
    };
  }

  private static String trimmedMessage(ValidationException e) {
    String prefix = e.field() + ": ";
    String message = e.getMessage();
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }

  /** RFC 6901 pointer of where Jackson was when it failed. */
  private static String pointer(JsonMappingException e) {
    StringBuilder pointer = new StringBuilder();
    for (JsonMappingException.Reference reference : e.getPath()) {
      pointer.append('/');
      if (reference.getFieldName() != null) {
        pointer.append(reference.getFieldName().replace("~", "~0").replace("/", "~1"));
      } else if (reference.getIndex() >= 0) {
        pointer.append(reference.getIndex());
      }
    }
    return pointer.length() == 0 ? "/" : pointer.toString();
  }

  /**
   * The pointer of a member that a record's constructor rejected. Constructors name members as
   * the model does ({@code token}, {@code targets.all}), relative to the message; {@code at} is
   * where the rejected object sits, and a nested object names itself first ({@code targets}).
   */
  private static String memberPointer(String at, String field) {
    if (field.startsWith("/")) {
      return at.equals("/") ? field : at + field;
    }
    List<String> names = new ArrayList<>(List.of(field.split("\\.")));
    String parent = at.substring(at.lastIndexOf('/') + 1);
    if (!at.equals("/") && names.size() > 0 && names.get(0).equals(parent)) {
      names.remove(0);
    }
    StringBuilder pointer = new StringBuilder(at.equals("/") ? "" : at);
    for (String name : names) {
      pointer.append('/').append(name.replace("~", "~0").replace("/", "~1"));
    }
    return pointer.length() == 0 ? "/" : pointer.toString();
  }

  /**
   * Instants are RFC 3339 strings only: jsr310's reader also takes epoch numbers and digit
   * strings ({@code 1767323045}, {@code "1767323045"}), which the coercion rules cannot stop.
   */
  private static final class InstantReader extends StdScalarDeserializer<Instant> {
    private static final long serialVersionUID = 1L;

    InstantReader() {
      super(Instant.class);
    }

    @Override
    public Instant deserialize(JsonParser parser, DeserializationContext context)
        throws IOException {
      if (!parser.hasToken(JsonToken.VALUE_STRING)) {
        return (Instant) context.handleUnexpectedToken(Instant.class, parser);
      }
      String text = parser.getText();
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        return (Instant) context.handleWeirdStringValue(
            Instant.class, text, "must be an RFC 3339 time such as 2026-01-02T03:04:05Z");
      }
    }
  }

  /**
   * One line, bounded, and in JSON's terms: Jackson names Java types ({@code `java.lang.String`},
   * {@code JsonToken.START_ARRAY}), which tell a client nothing and an attacker what runs here.
   */
  private static String clip(String message) {
    if (message == null) {
      return "is malformed";
    }
    String oneLine = message.replaceAll("\\s+", " ").trim();
    oneLine = TOKEN_NOTE.matcher(oneLine).replaceAll("");
    Matcher quoted = QUOTED_JAVA_NAME.matcher(oneLine);
    StringBuilder scrubbed = new StringBuilder();
    while (quoted.find()) {
      quoted.appendReplacement(scrubbed, Matcher.quoteReplacement(jsonKind(quoted.group(1))));
    }
    quoted.appendTail(scrubbed);
    oneLine = QUALIFIED_NAME.matcher(scrubbed).replaceAll("$1");
    return oneLine.length() <= MAX_DETAIL ? oneLine : oneLine.substring(0, MAX_DETAIL) + "…";
  }
}
