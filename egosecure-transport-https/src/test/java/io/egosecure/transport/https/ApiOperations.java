package io.egosecure.transport.https;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every operation {@code openapi.yaml} documents, read from the file itself, so the fuzzer and the
 * isolation matrix cover a route as soon as it is documented (and OpenApiRoutesTest keeps the
 * file equal to the served routes).
 */
final class ApiOperations {
  private static final String OPENAPI = "/io/egosecure/transport/https/openapi.yaml";
  private static final Pattern TEMPLATE_PARAMETER = Pattern.compile("\\{([^}/]+)}");

  /** The credential an operation takes, from its {@code security}. */
  enum Scheme { NONE, ADMIN_KEY, AGENT_CREDENTIAL }

  /** One documented operation. {@code body} is the request body's schema, fully resolved. */
  record Operation(String method, String template, Scheme scheme, Optional<Schema<?>> body,
      Set<String> pathParameters, Set<String> queryParameters) {

    String route() {
      return method + " " + template;
    }

    /** The path with each {@code {x}} replaced by {@code ids.apply("x")}. */
    String path(Function<String, String> ids) {
      Matcher matcher = TEMPLATE_PARAMETER.matcher(template);
      StringBuilder path = new StringBuilder();
      while (matcher.find()) {
        matcher.appendReplacement(path, Matcher.quoteReplacement(ids.apply(matcher.group(1))));
      }
      matcher.appendTail(path);
      return path.toString();
    }

    boolean isWebSocket() {
      return template.equals(EgoSecureHandler.NOTIFICATIONS_PATH);
    }
  }

  private ApiOperations() {}

  static List<Operation> all() {
    OpenAPI api = parse();
    List<Operation> operations = new ArrayList<>();
    api.getPaths().forEach((template, item) -> item.readOperationsMap().forEach((method, operation) -> {
      List<Parameter> parameters = new ArrayList<>();
      if (item.getParameters() != null) {
        parameters.addAll(item.getParameters());
      }
      if (operation.getParameters() != null) {
        parameters.addAll(operation.getParameters());
      }
      Set<String> path = new TreeSet<>();
      Set<String> query = new TreeSet<>();
      for (Parameter parameter : parameters) {
        if ("path".equals(parameter.getIn())) {
          path.add(parameter.getName());
        } else if ("query".equals(parameter.getIn())) {
          query.add(parameter.getName());
        }
      }
      Set<String> schemes = new TreeSet<>();
      if (operation.getSecurity() != null) {
        for (SecurityRequirement requirement : operation.getSecurity()) {
          schemes.addAll(requirement.keySet());
        }
      }
      Scheme scheme = schemes.contains("adminKey") ? Scheme.ADMIN_KEY
          : schemes.contains("agentCredential") ? Scheme.AGENT_CREDENTIAL : Scheme.NONE;
      Optional<Schema<?>> body = Optional.ofNullable(operation.getRequestBody())
          .map(requestBody -> requestBody.getContent().get("application/json"))
          .map(mediaType -> (Schema<?>) mediaType.getSchema());
      operations.add(new Operation(method.name(), template, scheme, body, Set.copyOf(path), Set.copyOf(query)));
    }));
    operations.sort(Comparator.comparing(Operation::route));
    return List.copyOf(operations);
  }

  /**
   * A body the schema allows: required and optional members with plausible values, enums from
   * their lists, {@code hints} by member name (a real enrollment token for {@code token}).
   */
  static JsonNode validBody(Schema<?> schema, Random random, Map<String, String> hints) {
    return instance(schema, null, random, hints, 0);
  }

  @SuppressWarnings("rawtypes")
  private static JsonNode instance(Schema<?> schema, String name, Random random, Map<String, String> hints, int depth) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    if (schema.getOneOf() != null && !schema.getOneOf().isEmpty()) {
      return instance(schema.getOneOf().get(random.nextInt(schema.getOneOf().size())), name, random, hints, depth);
    }
    if (schema.getAllOf() != null && !schema.getAllOf().isEmpty()) {
      ObjectNode merged = nodes.objectNode();
      for (Schema<?> part : schema.getAllOf()) {
        JsonNode node = instance(part, name, random, hints, depth);
        if (node instanceof ObjectNode object) {
          merged.setAll(object);
        }
      }
      return merged;
    }
    if (schema.getEnum() != null && !schema.getEnum().isEmpty()) {
      Object value = schema.getEnum().get(random.nextInt(schema.getEnum().size()));
      return value instanceof Boolean b ? nodes.booleanNode(b) : nodes.textNode(String.valueOf(value));
    }
    String type = schema.getType() != null ? schema.getType()
        : schema.getProperties() != null ? "object" : "string";
    switch (type) {
      case "object" -> {
        ObjectNode object = nodes.objectNode();
        Map<String, Schema> properties = schema.getProperties();
        if (properties != null && depth < 5) {
          properties.forEach((member, memberSchema) -> object.set(member,
              instance(memberSchema, member, random, hints, depth + 1)));
        } else if (schema.getAdditionalProperties() instanceof Schema<?> values && depth < 5) {
          object.set("os", instance(values, "os", random, hints, depth + 1));
        }
        return object;
      }
      case "array" -> {
        ArrayNode array = nodes.arrayNode();
        if (schema.getItems() != null && depth < 5) {
          array.add(instance(schema.getItems(), name, random, hints, depth + 1));
        }
        return array;
      }
      case "integer", "number" -> {
        long low = schema.getMinimum() == null ? 0 : schema.getMinimum().longValue();
        long high = schema.getMaximum() == null ? low + 100 : schema.getMaximum().longValue();
        BigDecimal example = schema.getExample() instanceof Number n ? new BigDecimal(n.toString()) : null;
        return nodes.numberNode(example != null && random.nextBoolean() ? example.longValue()
            : low + (long) (random.nextDouble() * Math.min(high - low, 1_000)));
      }
      case "boolean" -> {
        return nodes.booleanNode(true);
      }
      default -> {
        if (name != null && hints.containsKey(name)) {
          return nodes.textNode(hints.get(name));
        }
        return nodes.textNode(schema.getExample() instanceof String example ? example : "fuzz-" + name);
      }
    }
  }

  private static OpenAPI parse() {
    String yaml;
    try (InputStream in = ApiOperations.class.getResourceAsStream(OPENAPI)) {
      if (in == null) {
        throw new IllegalStateException(OPENAPI + " is not on the class path");
      }
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    options.setResolveFully(true);
    SwaggerParseResult result = new OpenAPIParser().readContents(yaml, null, options);
    if (result.getOpenAPI() == null || !result.getMessages().isEmpty()) {
      throw new IllegalStateException("openapi.yaml does not parse: " + result.getMessages());
    }
    return result.getOpenAPI();
  }
}
