package io.egosecure.store.jdbc;

import static io.egosecure.store.jdbc.internal.schema.Tables.AGENTS;
import static io.egosecure.store.jdbc.internal.schema.Tables.ENROLLMENT_TOKENS;
import static io.egosecure.store.jdbc.internal.schema.Tables.POLICIES;
import static io.egosecure.store.jdbc.internal.schema.Tables.REVISIONS;
import static io.egosecure.store.jdbc.internal.schema.Tables.SIGNING_KEYS;
import static io.egosecure.store.jdbc.internal.schema.Tables.TENANTS;
import static io.egosecure.store.jdbc.internal.schema.Tables.TENANT_AUDIT;

import io.egosecure.core.internal.Pages;
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
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.StoredSigningKey;
import io.egosecure.core.spi.TenantTransaction;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Param;
import org.jooq.Record;
import org.jooq.TableField;
import org.jooq.impl.DSL;

/**
 * A {@link TenantTransaction} over SQL. Every statement here carries {@code tenant_id = ?} for the
 * transaction's tenant, and every record written is checked to name that tenant: this class is
 * where a JDBC store keeps tenants apart.
 */
final class JdbcTenantTransaction implements TenantTransaction {
  private final DSLContext dsl;
  private final TenantId tenantId;
  private final String id;
  private Tenant tenant;
  private boolean ended;

  JdbcTenantTransaction(DSLContext dsl, Tenant tenant) {
    this.dsl = dsl;
    this.tenant = tenant;
    this.tenantId = tenant.id();
    this.id = tenant.id().value();
  }

  void end() {
    ended = true;
  }

  private DSLContext dsl() {
    if (ended) {
      throw new IllegalStateException("the transaction has ended");
    }
    return dsl;
  }

  private <R extends Record> Condition ofTenant(TableField<R, String> tenantColumn) {
    return tenantColumn.eq(id);
  }

  private void checkTenant(TenantId other) {
    if (!tenantId.equals(other)) {
      throw new IllegalArgumentException(
          "a transaction on tenant " + tenantId + " cannot write tenant " + other);
    }
  }

  @Override
  public Tenant tenant() {
    dsl();
    return tenant;
  }

  @Override
  public void updateTenant(Tenant updated) {
    checkTenant(updated.id());
    if (!tenant.createdAt().equals(updated.createdAt())
        || !tenant.distributor().equals(updated.distributor())) {
      throw new IllegalArgumentException("only a tenant's name and settings change");
    }
    dsl().update(TENANTS)
        .set(TENANTS.NAME, updated.name())
        .set(TENANTS.POLL_INTERVAL_SECONDS, (int) updated.polling().interval().toSeconds())
        .set(TENANTS.POLL_JITTER_PERCENT, updated.polling().jitterPercent())
        .where(TENANTS.ID.eq(id))
        .execute();
    tenant = updated;
  }

  // --- policies ---

  @Override
  public List<Policy> policies() {
    return dsl().selectFrom(POLICIES).where(ofTenant(POLICIES.TENANT_ID))
        .orderBy(POLICIES.ID).fetch(Rows::policy);
  }

  @Override
  public Optional<Policy> policy(PolicyId policyId) {
    return dsl().selectFrom(POLICIES)
        .where(ofTenant(POLICIES.TENANT_ID), POLICIES.ID.eq(policyId.value()))
        .fetchOptional(Rows::policy);
  }

  @Override
  public void putPolicy(Policy policy) {
    var row = Rows.policy(tenantId, policy);
    dsl().insertInto(POLICIES).set(row)
        .onConflict(POLICIES.TENANT_ID, POLICIES.ID).doUpdate().set(row)
        .execute();
  }

  @Override
  public boolean deletePolicy(PolicyId policyId) {
    return dsl().deleteFrom(POLICIES)
        .where(ofTenant(POLICIES.TENANT_ID), POLICIES.ID.eq(policyId.value()))
        .execute() > 0;
  }

  // --- revisions ---

  @Override
  public RevisionSnapshot latestRevision() {
    return dsl().selectFrom(REVISIONS).where(ofTenant(REVISIONS.TENANT_ID))
        .orderBy(REVISIONS.REVISION_NUMBER.desc()).limit(1)
        .fetchOptional(Rows::revision)
        .orElseThrow(() -> new IllegalStateException("tenant " + tenantId + " has no revision 0"));
  }

  @Override
  public Optional<RevisionSnapshot> revision(long number) {
    return dsl().selectFrom(REVISIONS)
        .where(ofTenant(REVISIONS.TENANT_ID), REVISIONS.REVISION_NUMBER.eq(number))
        .fetchOptional(Rows::revision);
  }

  @Override
  public Page<Revision> revisions(PageRequest page) {
    Condition where = ofTenant(REVISIONS.TENANT_ID);
    if (page.cursor().isPresent()) {
      where = where.and(REVISIONS.REVISION_NUMBER.lt(Pages.decodeNumber(page.cursor().get())));
    }
    // Read only the columns a listing shows, not each snapshot's policies.
    List<Revision> rows =
        dsl().select(REVISIONS.REVISION_NUMBER, REVISIONS.PUBLISHED_AT, REVISIONS.PUBLISH_COMMENT,
                REVISIONS.ACTOR)
            .from(REVISIONS).where(where)
            .orderBy(REVISIONS.REVISION_NUMBER.desc())
            .limit(page.limit() + 1)
            .fetch(r -> new Revision(r.value1(), Instant.ofEpochMilli(r.value2()), r.value3(), r.value4()));
    return Pages.fromExtraRow(rows, page.limit(), r -> Long.toString(r.number()));
  }

  @Override
  public void addRevision(RevisionSnapshot revision) {
    long latest =
        dsl().select(REVISIONS.REVISION_NUMBER.max()).from(REVISIONS)
            .where(ofTenant(REVISIONS.TENANT_ID)).fetchOne().value1();
    if (revision.number() != latest + 1) {
      throw new IllegalStateException(
          "tenant " + tenantId + " is at revision " + latest + "; the next is " + (latest + 1)
              + ", not " + revision.number());
    }
    dsl().insertInto(REVISIONS).set(Rows.revision(tenantId, revision)).execute();
  }

  // --- agents ---

  @Override
  public List<Agent> agents() {
    return dsl().selectFrom(AGENTS).where(ofTenant(AGENTS.TENANT_ID))
        .orderBy(AGENTS.ID).fetch(Rows::agent);
  }

  @Override
  public Optional<Agent> agent(AgentId agentId) {
    return dsl().selectFrom(AGENTS)
        .where(ofTenant(AGENTS.TENANT_ID), AGENTS.ID.eq(agentId.value()))
        .fetchOptional(Rows::agent);
  }

  @Override
  public void putAgent(Agent agent) {
    checkTenant(agent.tenantId());
    var row = Rows.agent(agent);
    dsl().insertInto(AGENTS).set(row)
        .onConflict(AGENTS.TENANT_ID, AGENTS.ID).doUpdate().set(row)
        .execute();
  }

  @Override
  public boolean deleteAgent(AgentId agentId) {
    return dsl().deleteFrom(AGENTS)
        .where(ofTenant(AGENTS.TENANT_ID), AGENTS.ID.eq(agentId.value()))
        .execute() > 0;
  }

  @Override
  public void touchAgents(Map<AgentId, Instant> lastSeen) {
    if (lastSeen.isEmpty()) {
      return;
    }
    DSLContext dsl = dsl();
    Param<Long> at = DSL.param("at", Long.class);
    Param<String> agent = DSL.param("agent", String.class);
    // One statement, many bind sets: an older time never replaces a newer one.
    var batch = dsl.batch(
        dsl.update(AGENTS)
            .set(AGENTS.LAST_SEEN_AT, at)
            .where(ofTenant(AGENTS.TENANT_ID), AGENTS.ID.eq(agent),
                AGENTS.LAST_SEEN_AT.isNull().or(AGENTS.LAST_SEEN_AT.lt(at))));
    lastSeen.forEach((id, seen) -> batch.bind(
        Map.of("at", seen.toEpochMilli(), "agent", id.value())));
    batch.execute();
  }

  // --- enrollment tokens ---

  @Override
  public List<EnrollmentToken> enrollmentTokens() {
    return dsl().selectFrom(ENROLLMENT_TOKENS).where(ofTenant(ENROLLMENT_TOKENS.TENANT_ID))
        .orderBy(ENROLLMENT_TOKENS.ID).fetch(Rows::token);
  }

  @Override
  public Optional<EnrollmentToken> enrollmentToken(EnrollmentTokenId tokenId) {
    return dsl().selectFrom(ENROLLMENT_TOKENS)
        .where(ofTenant(ENROLLMENT_TOKENS.TENANT_ID), ENROLLMENT_TOKENS.ID.eq(tokenId.value()))
        .fetchOptional(Rows::token);
  }

  @Override
  public void putEnrollmentToken(EnrollmentToken token) {
    checkTenant(token.tenantId());
    var row = Rows.token(token);
    dsl().insertInto(ENROLLMENT_TOKENS).set(row)
        .onConflict(ENROLLMENT_TOKENS.TENANT_ID, ENROLLMENT_TOKENS.ID).doUpdate().set(row)
        .execute();
  }

  @Override
  public boolean deleteEnrollmentToken(EnrollmentTokenId tokenId) {
    return dsl().deleteFrom(ENROLLMENT_TOKENS)
        .where(ofTenant(ENROLLMENT_TOKENS.TENANT_ID), ENROLLMENT_TOKENS.ID.eq(tokenId.value()))
        .execute() > 0;
  }

  // --- signing keys ---

  @Override
  public List<StoredSigningKey> signingKeys() {
    return dsl().selectFrom(SIGNING_KEYS).where(ofTenant(SIGNING_KEYS.TENANT_ID))
        .orderBy(SIGNING_KEYS.CREATED_AT, SIGNING_KEYS.KEY_ID).fetch(Rows::signingKey);
  }

  @Override
  public void addSigningKey(StoredSigningKey key) {
    dsl().insertInto(SIGNING_KEYS).set(Rows.signingKey(tenantId, key)).execute();
  }

  // --- audit ---

  @Override
  public void appendAudit(AuditEntry entry) {
    checkTenant(entry.tenantId().orElse(null));
    // Transactions on a tenant are serialised, so max + 1 cannot collide.
    Long last = dsl().select(TENANT_AUDIT.SEQ.max()).from(TENANT_AUDIT)
        .where(ofTenant(TENANT_AUDIT.TENANT_ID)).fetchOne().value1();
    dsl().insertInto(TENANT_AUDIT)
        .set(TENANT_AUDIT.TENANT_ID, id)
        .set(TENANT_AUDIT.SEQ, last == null ? 1 : last + 1)
        .set(TENANT_AUDIT.OCCURRED_AT, entry.at().toEpochMilli())
        .set(TENANT_AUDIT.ACTOR, entry.actor())
        .set(TENANT_AUDIT.ACTION_NAME, entry.action())
        .set(TENANT_AUDIT.TARGET, entry.target())
        .execute();
  }

  @Override
  public Page<AuditEntry> audit(PageRequest page) {
    Condition where = ofTenant(TENANT_AUDIT.TENANT_ID);
    if (page.cursor().isPresent()) {
      where = where.and(TENANT_AUDIT.SEQ.lt(Pages.decodeNumber(page.cursor().get())));
    }
    var rows = dsl().selectFrom(TENANT_AUDIT).where(where)
        .orderBy(TENANT_AUDIT.SEQ.desc()).limit(page.limit() + 1).fetch();
    Page<Record> raw = Pages.fromExtraRow(List.copyOf(rows), page.limit(),
        r -> Long.toString(r.get(TENANT_AUDIT.SEQ)));
    return raw.map(r -> Rows.audit(r.get(TENANT_AUDIT.OCCURRED_AT), r.get(TENANT_AUDIT.ACTOR),
        r.get(TENANT_AUDIT.ACTION_NAME), r.get(TENANT_AUDIT.TARGET), Optional.of(tenantId)));
  }
}
