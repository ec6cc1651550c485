package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code openapi.yaml} and {@code docs/protocol.md} in step with the code: the documented
 * operations are exactly the routes the handler serves (both ways), each names its path
 * parameters as the route does, each declares the right credential, and every problem type the
 * transport answers with is in both documents with its status.
 */
class OpenApiRoutesTest {
  private static final String OPENAPI = "/io/egosecure/transport/https/openapi.yaml";
  private static final Pattern TEMPLATE_PARAMETER = Pattern.compile("\\{([^}/]+)}");

  private static OpenAPI api;

  @BeforeAll
  static void parse() throws IOException {
    String yaml;
    try (InputStream in = OpenApiRoutesTest.class.getResourceAsStream(OPENAPI)) {
      assertThat(in).as("%s on the classpath", OPENAPI).isNotNull();
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult result = new OpenAPIParser().readContents(yaml, null, options);
    assertThat(result.getMessages()).as("parser messages").isEmpty();
    api = result.getOpenAPI();
    assertThat(api).isNotNull();
    assertThat(api.getOpenapi()).isEqualTo("3.0.3");
  }

  @Test
  void theDocumentParsesWithoutMessages() {
    assertThat(api.getPaths()).isNotEmpty();
    assertThat(api.getComponents().getSecuritySchemes()).containsOnlyKeys("adminKey", "agentCredential");
  }

  @Test
  void documentedOperationsAreExactlyTheServedRoutes() {
    Set<String> served = servedRoutes();
    Set<String> documented = new TreeSet<>(documentedOperations().keySet());

    Set<String> undocumented = new TreeSet<>(served);
    undocumented.removeAll(documented);
    Set<String> unserved = new TreeSet<>(documented);
    unserved.removeAll(served);

    assertThat(served).as("served routes").hasSizeGreaterThan(30);
    assertThat(undocumented).as("routes the handler serves but openapi.yaml does not document").isEmpty();
    assertThat(unserved).as("operations openapi.yaml documents but the handler does not serve").isEmpty();
  }

  @Test
  void pathParametersAreNamedAsInTheRoutes() {
    documentedOperations().forEach((route, operation) -> {
      String path = route.substring(route.indexOf(' ') + 1);
      Set<String> inTemplate = new TreeSet<>();
      Matcher matcher = TEMPLATE_PARAMETER.matcher(path);
      while (matcher.find()) {
        inTemplate.add(matcher.group(1));
      }
      List<Parameter> parameters = new ArrayList<>();
      if (api.getPaths().get(path).getParameters() != null) {
        parameters.addAll(api.getPaths().get(path).getParameters());
      }
      if (operation.getParameters() != null) {
        parameters.addAll(operation.getParameters());
      }
      Set<String> declared = parameters.stream().filter(p -> "path".equals(p.getIn()))
          .map(Parameter::getName).collect(Collectors.toCollection(TreeSet::new));
      assertThat(declared).as("path parameters of %s", route).isEqualTo(inTemplate);
    });
  }

  @Test
  void eachOperationDeclaresTheCredentialItTakes() {
    Set<String> anonymous = Set.of("POST /v1/agent/enroll", "GET /health/live", "GET /health/ready");
    documentedOperations().forEach((route, operation) -> {
      String path = route.substring(route.indexOf(' ') + 1);
      Set<String> schemes = operation.getSecurity() == null ? Set.of()
          : operation.getSecurity().stream().map(SecurityRequirement::keySet)
              .flatMap(Set::stream).collect(Collectors.toSet());
      String expected = anonymous.contains(route) ? null
          : path.startsWith("/v1/agent/") ? "agentCredential" : "adminKey";
      assertThat(operation.getSecurity()).as("%s declares its security explicitly", route).isNotNull();
      assertThat(schemes).as("security of %s", route)
          .isEqualTo(expected == null ? Set.of() : Set.of(expected));
    });
    assertThat(api.getSecurity()).as("no global default that an operation could inherit silently").isNull();
  }

  @Test
  void everyProblemTypeIsInTheOpenApiFileAndTheProtocolTable() throws IOException {
    String problemSchema = api.getComponents().getSchemas().get("Problem").getDescription();
    Map<String, Integer> table = problemTable(Files.readString(protocolDoc(), StandardCharsets.UTF_8));

    for (Problem problem : Problem.values()) {
      String uri = problem.type();
      assertThat(problemSchema).as("the Problem schema's description lists %s", uri)
          .containsPattern("\\| " + Pattern.quote(uri) + " \\| " + problem.status + " \\|");
      assertThat(table).as("docs/protocol.md's problem table").containsEntry(uri, problem.status);
    }
    Set<String> known = Arrays.stream(Problem.values()).map(Problem::type).collect(Collectors.toSet());
    assertThat(table.keySet()).as("types in docs/protocol.md's table that the code does not have")
        .isSubsetOf(known);
  }

  /** {@code "METHOD /path/{x}"} for every route of the handler, and the push socket's upgrade. */
  private static Set<String> servedRoutes() {
    PolicyServer policyServer = PolicyServer.builder()
        .store(PolicyStore.inMemory()).masterKey(KeyVault.generateMasterKey()).build();
    try {
      EgoSecureHandler handler = EgoSecureHandler.builder(policyServer).build(new Server());
      Set<String> routes = new TreeSet<>();
      for (Routes.Route route : handler.routes().all()) {
        assertThat(routes.add(route.method() + " " + openApiTemplate(route.pattern())))
            .as("route %s %s is registered once", route.method(), route.pattern()).isTrue();
      }
      // Served by the WebSocket upgrade handler in front of the routes.
      routes.add("GET " + openApiTemplate(EgoSecureHandler.NOTIFICATIONS_PATH));
      return routes;
    } finally {
      policyServer.close();
    }
  }

  /**
   * A route pattern as an OpenAPI path template. The route table writes parameters as OpenAPI
   * does ({@code {t}}); any other syntax here would be a new convention the test must learn.
   */
  static String openApiTemplate(String pattern) {
    return Arrays.stream(pattern.split("/", -1))
        .map(segment -> {
          if (segment.startsWith("{") && segment.endsWith("}")) {
            String name = segment.substring(1, segment.length() - 1);
            assertThat(name).as("parameter name in %s", pattern).matches("[A-Za-z][A-Za-z0-9]*");
            return "{" + name + "}";
          }
          assertThat(segment).as("literal segment of %s", pattern).doesNotContain("{", "}", ":");
          return segment;
        })
        .collect(Collectors.joining("/"));
  }

  private static Map<String, Operation> documentedOperations() {
    Map<String, Operation> operations = new TreeMap<>();
    api.getPaths().forEach((path, item) ->
        item.readOperationsMap().forEach((method, operation) -> {
          Operation previous = operations.put(method.name() + " " + path, operation);
          assertThat(previous).as("%s %s documented once", method, path).isNull();
        }));
    return operations;
  }

  /** The rows {@code | https://egosecure.io/problems/<slug> | <status> | ... |} of the table. */
  private static Map<String, Integer> problemTable(String markdown) {
    Pattern row = Pattern.compile(
        "^\\|\\s*`?(" + Pattern.quote(Problem.TYPE_PREFIX) + "[a-z0-9-]+)`?\\s*\\|\\s*(\\d{3})\\s*\\|",
        Pattern.MULTILINE);
    Map<String, Integer> table = new TreeMap<>();
    Matcher matcher = row.matcher(markdown);
    while (matcher.find()) {
      Integer previous = table.put(matcher.group(1), Integer.parseInt(matcher.group(2)));
      assertThat(previous).as("%s listed once in docs/protocol.md", matcher.group(1)).isNull();
    }
    return table;
  }

  /** docs/protocol.md of this checkout, found from the module directory surefire runs in. */
  private static Path protocolDoc() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("docs").resolve("protocol.md");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError("docs/protocol.md not found above " + Path.of("").toAbsolutePath());
  }
}
