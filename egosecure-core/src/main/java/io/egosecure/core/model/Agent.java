package io.egosecure.core.model;

import io.egosecure.core.ValidationException;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One enrolled endpoint.
 *
 * <p>{@code groups} is what administrators edit; {@code publishedGroups} is what the agent's
 * PolicySet is computed from. A publish copies the one to the other, so a group change, like a
 * policy edit, reaches the agent only with the next publish.
 *
 * @param credentialHash the hash of the agent's bearer credential, never the credential
 * @param lastSeenAt the last authenticated request, written behind in batches
 * @param appliedRevision the last revision the agent reported as applied
 * @param status the agent's last report, empty until it makes one
 */
public record Agent(
    AgentId id,
    TenantId tenantId,
    String name,
    Map<String, String> labels,
    Set<String> groups,
    Set<String> publishedGroups,
    SecretHash credentialHash,
    Instant enrolledAt,
    Optional<Instant> lastSeenAt,
    OptionalLong appliedRevision,
    Optional<AgentStatus> status) {
  public static final int MAX_LABELS = 50;
  private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
  private static final int MAX_LABEL_VALUE = 256;

  public Agent {
    Checks.notNull(id, "id");
    Checks.notNull(tenantId, "tenantId");
    Checks.text(name, "name", Checks.MAX_NAME_LENGTH);
    labels = labels(labels);
    groups = Checks.groups(groups, "groups");
    publishedGroups = Checks.groups(publishedGroups, "publishedGroups");
    Checks.notNull(credentialHash, "credentialHash");
    enrolledAt = Checks.millis(enrolledAt, "enrolledAt");
    lastSeenAt = Checks.notNull(lastSeenAt, "lastSeenAt").map(at -> Checks.millis(at, "lastSeenAt"));
    Checks.notNull(appliedRevision, "appliedRevision");
    Checks.notNull(status, "status");
  }

  /** A newly enrolled agent: its groups take effect at once, it has reported nothing yet. */
  public static Agent enrolled(
      AgentId id,
      TenantId tenantId,
      String name,
      Map<String, String> labels,
      Set<String> groups,
      SecretHash credentialHash,
      Instant enrolledAt) {
    return new Agent(
        id, tenantId, name, labels, groups, groups, credentialHash, enrolledAt, Optional.empty(),
        OptionalLong.empty(), Optional.empty());
  }

  public Agent withGroups(Set<String> groups) {
    return new Agent(
        id, tenantId, name, labels, groups, publishedGroups, credentialHash, enrolledAt,
        lastSeenAt, appliedRevision, status);
  }

  /** The agent as a publish leaves it: its current groups are now the published ones. */
  public Agent withGroupsPublished() {
    return new Agent(
        id, tenantId, name, labels, groups, groups, credentialHash, enrolledAt, lastSeenAt,
        appliedRevision, status);
  }

  public Agent withLastSeenAt(Instant lastSeenAt) {
    return new Agent(
        id, tenantId, name, labels, groups, publishedGroups, credentialHash, enrolledAt,
        Optional.of(lastSeenAt), appliedRevision, status);
  }

  /** The agent after a report; an APPLIED report also moves {@link #appliedRevision}. */
  public Agent withStatus(AgentStatus status) {
    OptionalLong applied =
        status.state() == AgentState.APPLIED ? OptionalLong.of(status.revision()) : appliedRevision;
    return new Agent(
        id, tenantId, name, labels, groups, publishedGroups, credentialHash, enrolledAt,
        lastSeenAt, applied, Optional.of(status));
  }

  private static Map<String, String> labels(Map<String, String> labels) {
    Checks.notNull(labels, "labels");
    if (labels.size() > MAX_LABELS) {
      throw new ValidationException(
          "labels", "has " + labels.size() + " labels; the limit is " + MAX_LABELS);
    }
    Map<String, String> sorted = new TreeMap<>();
    labels.forEach(
        (key, value) -> {
          if (key == null || !LABEL_KEY.matcher(key).matches()) {
            throw new ValidationException(
                "labels", "key '" + key + "' must be 1 to 63 characters of letters, digits, . _ / -");
          }
          if (value == null || value.length() > MAX_LABEL_VALUE) {
            throw new ValidationException(
                "labels." + key, "must be a string of at most " + MAX_LABEL_VALUE + " characters");
          }
          sorted.put(key, value);
        });
    return Collections.unmodifiableMap(sorted);
  }
}
