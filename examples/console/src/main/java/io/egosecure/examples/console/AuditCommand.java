package io.egosecure.examples.console;

import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "audit", description = "The audit log, newest first: a tenant's, or the server's (operators).")
final class AuditCommand extends ConsoleCommand {
  @Option(names = {"-t", "--tenant"}, paramLabel = "TENANT", description = "This tenant's log. Default: the server-wide log")
  String tenant;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "Entries at most. Default: ${DEFAULT-VALUE}")
  int limit;

  @Override
  void run() throws Exception {
    if (limit < 1) {
      throw usage("--limit must be at least 1");
    }
    String path = tenant == null ? "/v1/audit" : path("/v1/tenants", tenant, "audit");
    output().table(client().getAtMost(path, limit),
        Column.of("AT", "at"), Column.of("ACTOR", "actor"), Column.of("ACTION", "action"), Column.of("TARGET", "target"));
  }
}
