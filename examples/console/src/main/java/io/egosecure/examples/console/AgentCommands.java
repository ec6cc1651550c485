package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.Json;
import io.egosecure.examples.console.Output.Column;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "agents", description = "Enrolled agents: what they applied and when they were last seen.",
    subcommands = {AgentCommands.List.class, AgentCommands.SetGroups.class, AgentCommands.Revoke.class})
final class AgentCommands {
  static final Column[] FIELDS = {
    Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("GROUPS", "groups"), Column.of("LABELS", "labels"),
    Column.of("APPLIED", "appliedRevision"), Column.of("STATE", "state"), Column.of("LAST SEEN", "lastSeenAt")};

  enum State { APPLIED, FAILED }

  /** Where an agent stands against the tenant's current revision, in a word. */
  static String standing(JsonNode agent, long currentRevision) {
    if ("FAILED".equals(agent.path("state").asText())) {
      return "failed: " + Output.text(agent.get("message"));
    }
    if (!agent.path("appliedRevision").isNumber()) {
      return "nothing applied yet";
    }
    long applied = agent.path("appliedRevision").asLong();
    return applied >= currentRevision ? "up to date" : "behind by " + (currentRevision - applied);
  }

  @Command(name = "list", description = "Lists agents with the revision each applied and when it was last seen.")
  static final class List extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Option(names = "--state", paramLabel = "STATE", description = "Only agents whose last report was APPLIED or FAILED.")
    State state;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "Only agents in this group.")
    String group;

    @Option(names = "--last-seen-before", paramLabel = "INSTANT",
        description = "Only agents not seen since, e.g. 2026-01-31T00:00:00Z.")
    String lastSeenBefore;

    @Override
    void run() throws Exception {
      java.util.List<String> query = new ArrayList<>();
      if (state != null) {
        query.add("state=" + state);
      }
      if (group != null) {
        query.add("group=" + AdminClient.encode(group));
      }
      if (lastSeenBefore != null) {
        try {
          Instant.parse(lastSeenBefore);
        } catch (DateTimeParseException e) {
          throw usage("--last-seen-before must be an RFC 3339 UTC time such as 2026-01-31T00:00:00Z");
        }
        query.add("lastSeenBefore=" + AdminClient.encode(lastSeenBefore));
      }
      String path = tenant.path("agents") + (query.isEmpty() ? "" : "?" + String.join("&", query));
      JsonNode agents = client().getAll(path);
      if (output().json()) {
        output().printJson(agents);
        return;
      }
      long current = client().get(tenant.path("compliance")).path("revision").asLong();
      output().table(agents,
          Column.of("ID", "id"), Column.of("NAME", "name"), Column.of("GROUPS", "groups"),
          Column.of("APPLIED", "appliedRevision"), new Column("STATUS", a -> standing(a, current)),
          Column.of("LAST SEEN", "lastSeenAt"));
    }
  }

  @Command(name = "set-groups", description = "Sets an agent's groups; it gets their policies with the next publish.")
  static final class SetGroups extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Parameters(paramLabel = "AGENT")
    String id;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "A group; repeat for more.")
    java.util.List<String> groups = new ArrayList<>();

    @Option(names = "--none", description = "Remove the agent from every group.")
    boolean none;

    @Override
    void run() throws Exception {
      if (groups.isEmpty() == !none) {
        throw usage("give --group at least once, or --none to clear the groups");
      }
      ObjectNode body = Json.object();
      groups.forEach(body.putArray("groups")::add);
      output().fields(client().put(tenant.path("agents", id, "groups"), body, null).body(), FIELDS);
    }
  }

  @Command(name = "revoke", description = "Revokes an agent: its credential stops working at once.")
  static final class Revoke extends ConsoleCommand {
    @Mixin TenantOption tenant;

    @Parameters(paramLabel = "AGENT")
    String id;

    @Override
    void run() throws Exception {
      client().delete(tenant.path("agents", id), null);
      output().message("Revoked agent " + id + ".", null);
    }
  }
}
