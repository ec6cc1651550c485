package io.egosecure.examples.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleTest {
  @TempDir Path temp;

  private record Result(int status, String out, String err) {}

  private Result run(Optional<String> key, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Console.run(temp, key, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void apiPathsGoUnderTheServersOwnPath() {
    assertThat(AdminClient.target(URI.create("https://h:8443"), "/v1/tenants?limit=5"))
        .hasToString("https://h:8443/v1/tenants?limit=5");
    assertThat(AdminClient.target(URI.create("https://h:8443/"), "/v1/tenants"))
        .hasToString("https://h:8443/v1/tenants");
    assertThat(AdminClient.target(URI.create("https://h/egosecure/"), "/v1/tenants"))
        .hasToString("https://h/egosecure/v1/tenants");
    assertThat(AdminClient.target(URI.create("https://h/egosecure"), "/v1/audit"))
        .hasToString("https://h/egosecure/v1/audit");
  }

  @Test
  void tablesAlignColumnsAndShowAbsentValuesAsDashes() {
    StringWriter text = new StringWriter();
    JsonNode items = Json.readTree("""
        [{"id": "t-1", "name": "Acme", "groups": ["a", "b"]},
         {"id": "t-22222", "name": null, "groups": []}]""".getBytes(StandardCharsets.UTF_8));
    new Output(new PrintWriter(text), false).table(items,
        Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("GROUPS", "groups"));
    assertThat(text.toString()).isEqualTo("""
        ID       NAME  GROUPS
        t-1      Acme  a,b
        t-22222  -     -
        """);
  }

  @Test
  void jsonModePrintsTheServersJson() {
    StringWriter text = new StringWriter();
    JsonNode items = Json.readTree("[{\"id\": \"t-1\"}]".getBytes(StandardCharsets.UTF_8));
    new Output(new PrintWriter(text), true).table(items, Column.of("ID", "id"));
    assertThat(Json.readTree(text.toString().getBytes(StandardCharsets.UTF_8))).isEqualTo(items);
  }

  @Test
  void httpStatusesMapToDistinctExitStatuses() {
    assertThat(ExitStatus.of(401)).isEqualTo(ExitStatus.NOT_ALLOWED).isEqualTo(ExitStatus.of(403));
    assertThat(ExitStatus.of(404)).isEqualTo(ExitStatus.NOT_FOUND);
    assertThat(ExitStatus.of(412)).isEqualTo(ExitStatus.CONFLICT).isEqualTo(ExitStatus.of(428));
    assertThat(ExitStatus.of(400)).isEqualTo(ExitStatus.REJECTED).isEqualTo(ExitStatus.of(429));
    assertThat(ExitStatus.of(503)).isEqualTo(ExitStatus.SERVER_ERROR);
    assertThat(ApiException.problem(404, "No such resource", "no tenant t-1").getMessage())
        .isEqualTo("No such resource (404): no tenant t-1");
  }

  @Test
  void noServerAndNoLocalReferenceServerIsAUsageError() {
    Result result = run(Optional.empty(), "tenants", "list");
    assertThat(result.status()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("give --server URL");
  }

  @Test
  void tenantCommandsNeedATenant() {
    Result result = run(Optional.of("esk.k-1.x"), "--server", "https://127.0.0.1:1/", "policies", "list");
    assertThat(result.status()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("give --tenant TENANT");
  }

  @Test
  void aServerNobodyAnswersOnIsUnreachable() {
    Result result = run(Optional.of("esk.k-1.x"), "--server", "https://127.0.0.1:1/", "tenants", "list");
    assertThat(result.status()).isEqualTo(ExitStatus.UNREACHABLE);
    assertThat(result.err()).startsWith("egosecure-console: cannot reach https://127.0.0.1:1/");
    assertThat(result.err().strip()).doesNotContain("\n");
  }

  @Test
  void policySettingsMustBeAJsonObject() {
    Result result = run(Optional.of("esk.k-1.x"), "--server", "https://127.0.0.1:1/", "policies", "create",
        "-t", "t-1", "--name", "n", "--kind", "k", "--settings", "[1]", "--all");
    assertThat(result.status()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("--settings must be a JSON object");
  }

  @Test
  void helpListsTheCommands() {
    Result result = run(Optional.empty(), "--help");
    assertThat(result.status()).isZero();
    assertThat(result.out()).contains("tenants", "admin-keys", "polling", "enrollment-tokens", "policies",
        "publish", "revisions", "restore", "agents", "compliance", "audit", "--server", "--ca", "--key-file", "--json");
  }
}
