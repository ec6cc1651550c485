package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "restore", description = "Resets the drafts to an earlier revision's content and publishes them.")
final class RestoreCommand extends ConsoleCommand {
  @Mixin TenantOption tenant;

  @Parameters(paramLabel = "REVISION")
  long revision;

  @Override
  void run() throws Exception {
    JsonNode published = client().post(tenant.path("revisions", String.valueOf(revision), "restore"), Json.object()).body();
    output().message("Restored revision " + revision + " as revision " + text(published, "revision") + ".", published);
  }
}
