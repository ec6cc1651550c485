package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "tenants", description = "Create, list, show and delete tenants.",
    subcommands = {TenantCommands.Create.class, TenantCommands.List.class, TenantCommands.Show.class,
        TenantCommands.Delete.class})
final class TenantCommands {
  static final Column[] COLUMNS = {Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("CREATED", "createdAt")};

  @Command(name = "create", description = "Creates a tenant at revision 0.")
  static final class Create extends ConsoleCommand {
    @Parameters(paramLabel = "NAME", description = "A name for people, e.g. the customer's.")
    String name;

    @Override
    void run() throws Exception {
      JsonNode tenant = client().post("/v1/tenants", Json.object().put("name", name)).body();
      output().fields(tenant, COLUMNS);
    }
  }

  @Command(name = "list", description = "Lists the tenants this key may see.")
  static final class List extends ConsoleCommand {
    @Override
    void run() throws Exception {
      output().table(client().getAll("/v1/tenants"), COLUMNS);
    }
  }

  @Command(name = "show", description = "Shows one tenant.")
  static final class Show extends ConsoleCommand {
    @Parameters(paramLabel = "TENANT")
    String tenant;

    @Override
    void run() throws Exception {
      output().fields(client().get(path("/v1/tenants", tenant)), COLUMNS);
    }
  }

  @Command(name = "delete", description = "Deletes a tenant: its data, and every credential of it at once.")
  static final class Delete extends ConsoleCommand {
    @Parameters(paramLabel = "TENANT")
    String tenant;

    @Override
    void run() throws Exception {
      client().delete(path("/v1/tenants", tenant), null);
      output().message("Deleted tenant " + tenant + ".", null);
    }
  }
}
