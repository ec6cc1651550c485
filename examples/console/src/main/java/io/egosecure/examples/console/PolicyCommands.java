package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "policies",
    description = "Draft policies; agents get them with the next publish.",
    subcommands = {PolicyCommands.Create.class, PolicyCommands.List.class, PolicyCommands.Show.class,
        PolicyCommands.Update.class, PolicyCommands.Delete.class})
final class PolicyCommands {
  static final Column[] FIELDS = {
    Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("KIND", "kind"),
    new Column("TARGETS", PolicyCommands::targets), Column.of("VERSION", "version"),
    Column.of("UPDATED", "updatedAt"), Column.of("SETTINGS", "settings")};

  static String targets(JsonNode policy) {
    JsonNode targets = policy.path("targets");
    return targets.path("all").asBoolean(false) ? "all agents" : "groups " + Output.text(targets.get("groups"));
  }

  /** The policy's fields on the command line; for update, each one is optional. */
  static final class PolicyFields {
    @Option(names = "--name", paramLabel = "NAME", description = "A name for people.")
    String name;

    @Option(names = "--kind", paramLabel = "KIND", description = "What the agent does with it, e.g. device-control.")
    String kind;

    @Option(names = "--settings", paramLabel = "JSON|@FILE",
        description = "The settings object: inline JSON, or @file.json to read it from a file.")
    String settings;

    @Option(names = "--all", description = "Target every agent of the tenant.")
    boolean all;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "Target agents in this group; repeat for more.")
    java.util.List<String> groups = new java.util.ArrayList<>();

    boolean hasTargets() {
      return all || !groups.isEmpty();
    }

    /** Fills {@code body} with what was given; {@code body} holds the current policy for an update. */
    void applyTo(ObjectNode body, ConsoleCommand command) throws ApiException {
      if (all && !groups.isEmpty()) {
        throw command.usage("choose --all or --group, not both");
      }
      if (name != null) {
        body.put("name", name);
      }
      if (kind != null) {
        body.put("kind", kind);
      }
      if (settings != null) {
        body.set("settings", settingsObject(command));
      }
      if (all) {
        body.set("targets", Json.object().put("all", true));
      } else if (!groups.isEmpty()) {
        ObjectNode targets = Json.object();
        groups.forEach(targets.putArray("groups")::add);
        body.set("targets", targets);
      }
    }

    private JsonNode settingsObject(ConsoleCommand command) throws ApiException {
      String text = settings;
      if (settings.startsWith("@")) {
        Path file = Path.of(settings.substring(1));
        try {
          text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new ApiException(ExitStatus.FAILED, "cannot read settings from " + file + ": " + e.getMessage(), e);
        }
      }
      JsonNode parsed;
      try {
        parsed = Json.readTree(text.getBytes(StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        throw command.usage("--settings is not JSON: " + e.getMessage());
      }
      if (!parsed.isObject()) {
        throw command.usage("--settings must be a JSON object, e.g. '{\"usb\": \"block\"}'");
      }
      return parsed;
    }
  }

  /** The body of a PUT: the members a policy is written with. */
  static ObjectNode writable(JsonNode policy) {
    ObjectNode body = Json.object();
    for (String member : new String[] {"name", "kind", "settings", "targets"}) {
      body.set(member, policy.get(member));
    }
    return body;
  }

  static String ifMatch(Long version, JsonNode current) {
    return "\"" + (version != null ? version : current.path("version").asLong()) + "\"";
  }

  @Command(name = "create", description = "Creates a draft policy.")
  static final class Create extends ConsoleCommand {
    @Mixin TenantOption tenant;
    @Mixin PolicyFields policy;

    @Override
    void run() throws Exception {
      if (policy.name == null || policy.kind == null || policy.settings == null || !policy.hasTargets()) {
        throw usage("a new policy needs --name, --kind, --settings and --all or --group");
      }
      ObjectNode body = Json.object();
      policy.applyTo(body, this);
      output().fields(client().post(tenant.path("policies"), body).body(), FIELDS);
    }
  }

  @Command(name = "list", description = "Lists the draft policies.")
  static final class List extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Override
    void run() throws Exception {
      output().table(client().getAll(tenant.path("policies")),
          Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("KIND", "kind"),
          new Column("TARGETS", PolicyCommands::targets), Column.of("VERSION", "version"),
          Column.of("UPDATED", "updatedAt"));
    }
  }

  @Command(name = "show", description = "Shows one policy with its settings.")
  static final class Show extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Parameters(paramLabel = "POLICY")
    String id;

    @Override
    void run() throws Exception {
      output().fields(client().get(tenant.path("policies", id)), FIELDS);
    }
  }

  @Command(name = "update", description = "Changes the given fields of a policy; the others stay.")
  static final class Update extends ConsoleCommand {
    @Mixin TenantOption tenant;
    @Mixin PolicyFields policy;

    @Parameters(paramLabel = "POLICY")
    String id;

    @Option(names = "--version", paramLabel = "VERSION",
        description = "The version you edited (If-Match); a newer one on the server fails with exit 6."
            + " Default: the current version")
    Long version;

    @Override
    void run() throws Exception {
      JsonNode current = client().get(tenant.path("policies", id));
      ObjectNode body = writable(current);
      policy.applyTo(body, this);
      output().fields(client().put(tenant.path("policies", id), body, ifMatch(version, current)).body(), FIELDS);
    }
  }

  @Command(name = "delete", description = "Deletes a draft policy; agents keep it until the next publish.")
  static final class Delete extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Parameters(paramLabel = "POLICY")
    String id;

    @Option(names = "--version", paramLabel = "VERSION",
        description = "The version you mean to delete (If-Match). Default: the current version")
    Long version;

    @Override
    void run() throws Exception {
      String ifMatch = version != null ? ifMatch(version, null) : ifMatch(null, client().get(tenant.path("policies", id)));
      client().delete(tenant.path("policies", id), ifMatch);
      output().message("Deleted policy " + id + ".", null);
    }
  }
}
