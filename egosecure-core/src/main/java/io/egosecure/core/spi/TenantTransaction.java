package io.egosecure.core.spi;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Tenant;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One transaction on one tenant's data, from {@link PolicyStore#inTenant}. Every record read or
 * written here belongs to {@link #tenant()}; records naming another tenant are refused with
 * {@link IllegalArgumentException}. Valid only inside the callback that received it.
 *
 * <p>"put" methods insert or replace by id.
 */
public interface TenantTransaction {

  /** The tenant as of this transaction. */
  Tenant tenant();

  /** Replaces the tenant's mutable settings (its polling settings). */
  void updateTenant(Tenant tenant);

  /** The current drafts, ordered by id. */
  List<Policy> policies();

  Optional<Policy> policy(PolicyId id);

  void putPolicy(Policy policy);

  /** @return whether it existed */
  boolean deletePolicy(PolicyId id);

  /** The newest revision; every tenant has at least revision 0. */
  RevisionSnapshot latestRevision();

  Optional<RevisionSnapshot> revision(long number);

  /** Revisions newest first. */
  Page<Revision> revisions(PageRequest page);

  /**
   * Appends a revision.
   *
   * @throws IllegalStateException unless its number is exactly the latest plus one
   */
  void addRevision(RevisionSnapshot revision);

  /** Every agent of the tenant, ordered by id. */
  List<Agent> agents();

  Optional<Agent> agent(AgentId id);

  void putAgent(Agent agent);

  /** @return whether it existed */
  boolean deleteAgent(AgentId id);

  /**
   * Records when agents were last seen; an older instant never replaces a newer one, and unknown
   * agents (revoked meanwhile) are skipped.
   */
  void touchAgents(Map<AgentId, Instant> lastSeen);

  /** Enrollment tokens ordered by id. */
  List<EnrollmentToken> enrollmentTokens();

  Optional<EnrollmentToken> enrollmentToken(EnrollmentTokenId id);

  void putEnrollmentToken(EnrollmentToken token);

  /** @return whether it existed */
  boolean deleteEnrollmentToken(EnrollmentTokenId id);

  /** The tenant's signing keys, oldest first. */
  List<StoredSigningKey> signingKeys();

  void addSigningKey(StoredSigningKey key);

  /** Appends to the tenant's audit log. */
  void appendAudit(AuditEntry entry);

  /** The tenant's audit log, newest first. */
  Page<AuditEntry> audit(PageRequest page);
}
