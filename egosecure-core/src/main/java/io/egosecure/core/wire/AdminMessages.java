package io.egosecure.core.wire;

import static io.egosecure.core.wire.AgentMessages.required;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.Page;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The bodies of the admin (console) API (PROTOCOL.md, "Admin API"). Requests are read with
 * {@link Json.Strictness#REJECT_UNKNOWN_FIELDS}; each view has a {@code of} factory from the
 * model, so a transport never assembles a body by hand.
 */
public final class AdminMessages {
  private AdminMessages() {}

  /** {@code {"items": [...], "next": "<cursor>" | null}}. */
  public record Items<T>(List<T> items, String next) {
    public Items {
      items = List.copyOf(items);
    }

    public static <M, T> Items<T> of(Page<M> page, Function<? super M, ? extends T> view) {
      return new Items<>(page.items().stream().<T>map(view).toList(), page.next().orElse(null));
    }
  }

  /** {@code POST /v1/admin-keys} and {@code POST /v1/tenants/{t}/admin-keys}. */
  public record CreateAdminKey(String name, Role role) {
    public CreateAdminKey {
      required(name, "name");
      required(role, "role");
    }
  }

  /** An admin key as listed: never its secret. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record AdminKeyView(String id, String name, Role role, String tenantId, Instant createdAt) {
    public static AdminKeyView of(AdminKey key) {
      return new AdminKeyView(
          key.id().value(), key.name(), key.role(),
          key.tenantId().map(Object::toString).orElse(null), key.createdAt());
    }
  }

  /** A new admin key with its secret, shown this once. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record CreatedAdminKey(
      String id, String key, String name, Role role, String tenantId, Instant createdAt) {
    public static CreatedAdminKey of(AdminKey key, String secret) {
      AdminKeyView view = AdminKeyView.of(key);
      return new CreatedAdminKey(
          view.id(), secret, view.name(), view.role(), view.tenantId(), view.createdAt());
    }
  }

  /** {@code POST /v1/tenants}. */
  public record CreateTenant(String name) {
    public CreateTenant {
      required(name, "name");
    }
  }

  /** A tenant as the admin API shows it. */
  public record TenantView(String id, String name, Instant createdAt) {
    public static TenantView of(Tenant tenant) {
      return new TenantView(tenant.id().value(), tenant.name(), tenant.createdAt());
    }
  }

  /** {@code GET} and {@code PUT /v1/tenants/{t}/polling}. */
  public record Polling(long intervalSeconds, int jitterPercent) {
    public static Polling of(PollingSettings settings) {
      return new Polling(settings.interval().toSeconds(), settings.jitterPercent());
    }

    public PollingSettings toSettings() {
      return new PollingSettings(Duration.ofSeconds(intervalSeconds), jitterPercent);
    }
  }

  /**
   * {@code POST /v1/tenants/{t}/enrollment-tokens}. Absent members take their defaults: valid for
   * {@value #DEFAULT_EXPIRES_IN_SECONDS} s, one use, no groups.
   */
  public record CreateEnrollmentToken(Long expiresInSeconds, Integer maxUses, List<String> groups) {
    public static final long DEFAULT_EXPIRES_IN_SECONDS = 86_400;
    public static final long MAX_EXPIRES_IN_SECONDS = 366L * 86_400;

    public CreateEnrollmentToken {
      expiresInSeconds = expiresInSeconds == null ? DEFAULT_EXPIRES_IN_SECONDS : expiresInSeconds;
      if (expiresInSeconds < 1 || expiresInSeconds > MAX_EXPIRES_IN_SECONDS) {
        throw new ValidationException(
            "expiresInSeconds",
            "must be 1 to " + MAX_EXPIRES_IN_SECONDS + ", was " + expiresInSeconds);
      }
      maxUses = maxUses == null ? 1 : maxUses;
      groups = groups == null ? List.of() : List.copyOf(groups);
    }

    public Duration expiresIn() {
      return Duration.ofSeconds(expiresInSeconds);
    }
  }

  /** An enrollment token as listed: never its secret. */
  public record EnrollmentTokenView(
      String id, List<String> groups, Instant createdAt, Instant expiresAt, int maxUses, int uses) {
    public static EnrollmentTokenView of(EnrollmentToken token) {
      return new EnrollmentTokenView(
          token.id().value(), token.groups().stream().sorted().toList(), token.createdAt(),
          token.expiresAt(), token.maxUses(), token.uses());
    }
  }

  /** A new enrollment token with its secret, shown this once. */
  public record CreatedEnrollmentToken(
      String id, String token, Instant expiresAt, List<String> groups, int maxUses) {
    public static CreatedEnrollmentToken of(EnrollmentToken token, String secret) {
      return new CreatedEnrollmentToken(
          token.id().value(), secret, token.expiresAt(), token.groups().stream().sorted().toList(),
          token.maxUses());
    }
  }

  /** {@code {"all": true}} or {@code {"groups": [...]}}: exactly one of the two. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TargetsBody(Boolean all, List<String> groups) {
    public TargetsBody {
      if ((all == null) == (groups == null)) {
        throw new ValidationException("targets", "must be {\"all\": true} or {\"groups\": [...]}");
      }
      if (all != null && !all) {
        throw new ValidationException("targets.all", "must be true; name groups to target fewer");
      }
      groups = groups == null ? null : List.copyOf(groups);
    }

    public static TargetsBody of(Targets targets) {
      return targets instanceof Targets.Groups g
          ? new TargetsBody(null, g.groups().stream().sorted().toList())
          : new TargetsBody(true, null);
    }

    public Targets toTargets() {
      return all != null ? Targets.allAgents() : Targets.groups(groups);
    }
  }

  /** The body of {@code POST} and {@code PUT} on policies. */
  public record PolicyBody(String name, String kind, ObjectNode settings, TargetsBody targets) {
    public PolicyBody {
      required(name, "name");
      required(kind, "kind");
      required(settings, "settings");
      required(targets, "targets");
    }

    public PolicySpec toSpec() {
      return new PolicySpec(name, kind, settings, targets.toTargets());
    }
  }

  /** A policy as the admin API shows it (and as revision snapshots store it). */
  public record PolicyView(
      String id,
      String name,
      String kind,
      ObjectNode settings,
      TargetsBody targets,
      long version,
      Instant updatedAt) {
    public static PolicyView of(Policy policy) {
      PolicySpec spec = policy.spec();
      return new PolicyView(
          policy.id().value(), spec.name(), spec.kind(), spec.settings(),
          TargetsBody.of(spec.targets()), policy.version(), policy.updatedAt());
    }
  }

  /** {@code POST /v1/tenants/{t}/publish}. {@code comment} may be absent. */
  public record Publish(String comment) {
    public Publish {
      comment = comment == null ? "" : comment;
    }
  }

  /** The answer to publish and restore. */
  public record Published(long revision, Instant publishedAt) {
    public static Published of(Revision revision) {
      return new Published(revision.number(), revision.publishedAt());
    }
  }

  /** One entry of the revision list. */
  public record RevisionView(long revision, Instant publishedAt, String comment, String actor) {
    public static RevisionView of(Revision revision) {
      return new RevisionView(
          revision.number(), revision.publishedAt(), revision.comment(), revision.actor());
    }
  }

  /**
   * An agent in the console. {@code appliedRevision} is the last revision it applied; {@code
   * state}, {@code message} and {@code reportedRevision} are its last report. Absent values are
   * {@code null}.
   */
  public record AgentView(
      String id,
      String name,
      List<String> groups,
      Map<String, String> labels,
      Instant lastSeenAt,
      Long appliedRevision,
      AgentState state,
      String message,
      Long reportedRevision,
      Instant enrolledAt) {
    public static AgentView of(Agent agent) {
      return new AgentView(
          agent.id().value(),
          agent.name(),
          agent.groups().stream().sorted().toList(),
          agent.labels(),
          agent.lastSeenAt().orElse(null),
          agent.appliedRevision().isPresent() ? agent.appliedRevision().getAsLong() : null,
          agent.status().map(s -> s.state()).orElse(null),
          agent.status().map(s -> s.message()).orElse(null),
          agent.status().map(s -> s.revision()).orElse(null),
          agent.enrolledAt());
    }
  }

  /** {@code PUT /v1/tenants/{t}/agents/{a}/groups}. */
  public record AgentGroups(List<String> groups) {
    public AgentGroups {
      required(groups, "groups");
      groups = List.copyOf(groups);
    }
  }

  /** One audit log entry. */
  public record AuditView(Instant at, String actor, String action, String target) {
    public static AuditView of(AuditEntry entry) {
      return new AuditView(entry.at(), entry.actor(), entry.action(), entry.target());
    }
  }
}
