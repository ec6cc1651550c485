package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "admin-keys",
    description = "Operator and distributor keys (server-wide) and tenant admin keys (with --tenant).",
    subcommands = {AdminKeyCommands.Create.class, AdminKeyCommands.List.class, AdminKeyCommands.Delete.class})
final class AdminKeyCommands {
  static final Column[] COLUMNS = {
    Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("ROLE", "role"),
    Column.of("TENANT", "tenantId"), Column.of("CREATED", "createdAt")};

  /** Server-wide keys by default; a tenant's admin keys with --tenant (no environment default here). */
  static String base(String tenant) {
    return tenant == null ? "/v1/admin-keys" : ConsoleCommand.path("/v1/tenants", tenant, "admin-keys");
  }

  enum ServerRole { OPERATOR, DISTRIBUTOR }

  @Command(name = "create", description = "Creates a key and prints its secret, once.")
  static final class Create extends ConsoleCommand {
    @Parameters(paramLabel = "NAME", description = "Who or what holds the key.")
    String name;

    @Option(names = "--role", paramLabel = "ROLE",
        description = "OPERATOR or DISTRIBUTOR, for a server-wide key. Default: DISTRIBUTOR")
    ServerRole role;

    @Option(names = {"-t", "--tenant"}, paramLabel = "TENANT", description = "Create a TENANT_ADMIN key of this tenant.")
    String tenant;

    @Override
    void run() throws Exception {
      if (tenant != null && role != null) {
        throw usage("--role is for server-wide keys; a key with --tenant is always TENANT_ADMIN");
      }
      String wireRole = tenant != null ? "TENANT_ADMIN" : (role == null ? ServerRole.DISTRIBUTOR : role).name();
      JsonNode key = client().post(base(tenant), Json.object().put("name", name).put("role", wireRole)).body();
      output().fields(key, Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("ROLE", "role"),
          Column.of("TENANT", "tenantId"), Column.of("KEY", "key"));
      output().secretNotice("key");
    }
  }

  @Command(name = "list", description = "Lists keys (never their secrets).")
  static final class List extends ConsoleCommand {
    @Option(names = {"-t", "--tenant"}, paramLabel = "TENANT", description = "List this tenant's admin keys.")
    String tenant;

    @Override
    void run() throws Exception {
      output().table(client().getAll(base(tenant)), COLUMNS);
    }
  }

  @Command(name = "delete", description = "Deletes a key: it stops working at once.")
  static final class Delete extends ConsoleCommand {
    @Parameters(paramLabel = "KEY-ID")
    String id;

    @Option(names = {"-t", "--tenant"}, paramLabel = "TENANT", description = "The tenant the key belongs to.")
    String tenant;

    @Override
    void run() throws Exception {
      client().delete(base(tenant) + "/" + AdminClient.encode(id), null);
      output().message("Deleted admin key " + id + ".", null);
    }
  }
}
