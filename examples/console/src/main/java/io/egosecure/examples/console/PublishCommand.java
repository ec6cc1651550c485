package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.wire.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "publish", description = "Turns the drafts into a new signed revision that agents fetch.")
final class PublishCommand extends ConsoleCommand {
  @Mixin TenantOption tenant;

  @Option(names = {"-m", "--comment"}, paramLabel = "TEXT", description = "Why, for the revision list and audit log.")
  String comment;

  @Override
  void run() throws Exception {
    AdminClient.Response response = client().post(tenant.path("publish"),
        comment == null ? Json.object() : Json.object().put("comment", comment));
    JsonNode published = response.body();
    output().message(response.status() == 201
        ? "Published revision " + text(published, "revision") + " at " + text(published, "publishedAt") + "."
        : "Nothing changed since revision " + text(published, "revision") + "; nothing published.", published);
  }
}
