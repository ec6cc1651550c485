package io.egosecure.core.wire;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.egosecure.core.ValidationException;
import java.io.IOException;
import java.io.UncheckedIOException;

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

  private static final JsonMapper STRICT = mapper(true);
  private static final JsonMapper LENIENT = mapper(false);

  private Json() {}

  private static JsonMapper mapper(boolean rejectUnknown) {
    JsonMapper mapper =
        JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, rejectUnknown)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
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
      String at = pointer(vie);
      return new ValidationException(
          at.equals("/") ? cause.field() : at + " (" + cause.field() + ")", trimmedMessage(cause));
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

  private static String clip(String message) {
    if (message == null) {
      return "is malformed";
    }
    String oneLine = message.replaceAll("\\s+", " ").trim();
    return oneLine.length() <= MAX_DETAIL ? oneLine : oneLine.substring(0, MAX_DETAIL) + "…";
  }
}
