package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "polling", description = "How often a tenant's agents poll.",
    subcommands = {PollingCommands.Show.class, PollingCommands.Set.class})
final class PollingCommands {
  static final Column[] FIELDS = {
    Column.of("interval seconds", "intervalSeconds"), Column.of("jitter percent", "jitterPercent")};

  @Command(name = "show", description = "Shows the polling settings.")
  static final class Show extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Override
    void run() throws Exception {
      output().fields(client().get(tenant.path("polling")), FIELDS);
    }
  }

  @Command(name = "set", description = "Changes the polling settings; agents pick them up at their next poll.")
  static final class Set extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Option(names = "--interval", paramLabel = "SECONDS", description = "5 to 86400. Default: unchanged")
    Long interval;

    @Option(names = "--jitter", paramLabel = "PERCENT", description = "0 to 50. Default: unchanged")
    Integer jitter;

    @Override
    void run() throws Exception {
      if (interval == null && jitter == null) {
        throw usage("give --interval, --jitter or both");
      }
      JsonNode current = interval == null || jitter == null ? client().get(tenant.path("polling")) : null;
      JsonNode body = Json.object()
          .put("intervalSeconds", interval != null ? interval : current.path("intervalSeconds").asLong())
          .put("jitterPercent", jitter != null ? jitter : current.path("jitterPercent").asInt());
      output().fields(client().put(tenant.path("polling"), body, null).body(), FIELDS);
    }
  }
}
