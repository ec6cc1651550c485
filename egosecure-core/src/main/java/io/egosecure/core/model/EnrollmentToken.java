package io.egosecure.core.model;

import io.egosecure.core.ValidationException;
import java.time.Instant;
import java.util.Set;

/**
 * A secret an administrator hands to endpoints so they can enroll: valid until {@code expiresAt}
 * for at most {@code maxUses} enrollments, putting each agent it enrolls into {@code groups}.
 */
public record EnrollmentToken(
    EnrollmentTokenId id,
    TenantId tenantId,
    SecretHash secretHash,
    Set<String> groups,
    Instant createdAt,
    Instant expiresAt,
    int maxUses,
    int uses) {
  public static final int MAX_USES = 1_000_000;

  public EnrollmentToken {
    Checks.notNull(id, "id");
    Checks.notNull(tenantId, "tenantId");
    Checks.notNull(secretHash, "secretHash");
    groups = Checks.groups(groups, "groups");
    createdAt = Checks.millis(createdAt, "createdAt");
    expiresAt = Checks.millis(expiresAt, "expiresAt");
    if (!expiresAt.isAfter(createdAt)) {
      throw new ValidationException("expiresInSeconds", "must be positive");
    }
    if (maxUses < 1 || maxUses > MAX_USES) {
      throw new ValidationException("maxUses", "must be 1 to " + MAX_USES + ", was " + maxUses);
    }
    if (uses < 0 || uses > maxUses) {
      throw new IllegalArgumentException("uses must be 0 to maxUses, was " + uses);
    }
  }

  /** Whether one more agent may enroll with it at {@code now}. */
  public boolean usableAt(Instant now) {
    return uses < maxUses && now.isBefore(expiresAt);
  }

  public EnrollmentToken withOneMoreUse() {
    return new EnrollmentToken(
        id, tenantId, secretHash, groups, createdAt, expiresAt, maxUses, uses + 1);
  }
}
