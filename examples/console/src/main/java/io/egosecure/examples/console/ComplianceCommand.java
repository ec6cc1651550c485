package io.egosecure.examples.console;

import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "compliance", description = "How the tenant's agents stand with the current revision.")
final class ComplianceCommand extends ConsoleCommand {
  @Mixin TenantOption tenant;

  @Override
  void run() throws Exception {
    output().fields(client().get(tenant.path("compliance")),
        Column.of("revision", "revision"), Column.of("agents", "agents"), Column.of("applied", "applied"),
        Column.of("failed", "failed"), Column.of("behind", "behind"),
        Column.of("silent", "silent"));
  }
}
