package io.egosecure.examples.console;

import io.egosecure.examples.console.Output.Column;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "revisions", description = "Lists the published revisions, newest first.")
final class RevisionCommands extends ConsoleCommand {
  @Mixin TenantOption tenant;

  @Override
  void run() throws Exception {
    output().table(client().getAll(tenant.path("revisions")),
        Column.of("REVISION", "revision"), Column.of("PUBLISHED", "publishedAt"), Column.of("ACTOR", "actor"),
        Column.of("COMMENT", "comment"));
  }
}
