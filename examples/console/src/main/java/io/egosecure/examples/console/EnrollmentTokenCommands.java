package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "enrollment-tokens", aliases = "tokens",
    description = "Tokens agents enroll with.",
    subcommands = {EnrollmentTokenCommands.Create.class, EnrollmentTokenCommands.List.class,
        EnrollmentTokenCommands.Revoke.class})
final class EnrollmentTokenCommands {

  @Command(name = "create", description = "Creates a token and prints it, once.")
  static final class Create extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Option(names = "--expires-in", paramLabel = "SECONDS", description = "Validity. Default: 86400 (a day)")
    Long expiresIn;

    @Option(names = "--max-uses", paramLabel = "N", description = "How many agents may enroll with it. Default: 1")
    Integer maxUses;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "A group agents enrolled with it join; repeat for more.")
    java.util.List<String> groups = new java.util.ArrayList<>();

    @Override
    void run() throws Exception {
      ObjectNode body = Json.object();
      if (expiresIn != null) {
        body.put("expiresInSeconds", expiresIn);
      }
      if (maxUses != null) {
        body.put("maxUses", maxUses);
      }
      groups.forEach(body.putArray("groups")::add);
      JsonNode token = client().post(tenant.path("enrollment-tokens"), body).body();
      output().fields(token, Column.of("ID", "id"), Column.of("TOKEN", "token"), Column.of("EXPIRES", "expiresAt"),
          Column.of("MAX USES", "maxUses"), Column.of("GROUPS", "groups"));
      output().secretNotice("token");
    }
  }

  @Command(name = "list", description = "Lists tokens (never their secrets).")
  static final class List extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Override
    void run() throws Exception {
      output().table(client().getAll(tenant.path("enrollment-tokens")),
          Column.of("ID", "id"), Column.of("GROUPS", "groups"),
          new Column("USES", t -> text(t, "uses") + "/" + text(t, "maxUses")),
          Column.of("EXPIRES", "expiresAt"), Column.of("CREATED", "createdAt"));
    }
  }

  @Command(name = "revoke", description = "Revokes a token; agents it enrolled stay enrolled.")
  static final class Revoke extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Parameters(paramLabel = "TOKEN-ID")
    String id;

    @Override
    void run() throws Exception {
      client().delete(tenant.path("enrollment-tokens", id), null);
      output().message("Revoked enrollment token " + id + ".", null);
    }
  }
}
