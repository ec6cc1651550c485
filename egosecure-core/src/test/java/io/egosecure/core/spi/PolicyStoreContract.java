package io.egosecure.core.spi;

import static io.egosecure.core.testing.Fixtures.BASE;
import static io.egosecure.core.testing.Fixtures.agent;
import static io.egosecure.core.testing.Fixtures.distributorKey;
import static io.egosecure.core.testing.Fixtures.enrollmentToken;
import static io.egosecure.core.testing.Fixtures.initialRevision;
import static io.egosecure.core.testing.Fixtures.operatorKey;
import static io.egosecure.core.testing.Fixtures.policy;
import static io.egosecure.core.testing.Fixtures.revision;
import static io.egosecure.core.testing.Fixtures.serverAudit;
import static io.egosecure.core.testing.Fixtures.signingKey;
import static io.egosecure.core.testing.Fixtures.tenant;
import static io.egosecure.core.testing.Fixtures.tenantAdminKey;
import static io.egosecure.core.testing.Fixtures.tenantAudit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.egosecure.core.NotFoundException;
import io.egosecure.core.ValidationException;
import io.egosecure.core.internal.Pages;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.AgentStatus;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.LongStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link PolicyStore} shares. A store module extends this class in a test of
 * its own and supplies a fresh, empty store per test:
 *
 * <pre>{@code
 * class SqlitePolicyStoreIT extends PolicyStoreContract {
 *   @TempDir Path dir;
 *
 *   @Override
 *   protected PolicyStore newStore() {
 *     return SqlitePolicyStore.open(dir.resolve("store.db"));
 *   }
 * }
 * }</pre>
 *
 * <p>The store is closed after each test, so {@link PolicyStore#close()} must be safe to call on
 * a store that is already closed.
 */
public abstract class PolicyStoreContract {

  /**
   * Ids whose order differs between code-point order and a natural-language collation (which
   * ignores '-' or sorts digits after letters). Stores order by id in code-point order, as
   * {@link String#compareTo} does: that is the order a cursor's key is compared in.
   */
  private static final List<String> ORDER_PROBE_IDS =
      List.of("b", "a-b", "a9", "ab", "a", "a-1", "a10", "a0");

  private static final List<String> SORTED_PROBE_IDS = ORDER_PROBE_IDS.stream().sorted().toList();

  /** How long a worker thread may wait for another; only reached when something is broken. */
  private static final long WAIT_SECONDS = 10;

  protected PolicyStore store;

  /** A new store holding nothing: no tenants, no admin keys, an empty server audit log. */
  protected abstract PolicyStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  // ---------------------------------------------------------------------------------- tenants

  @Test
  void createdTenantReadsBackEqual() {
    Tenant tenant = tenant("acme");

    store.createTenant(tenant, initialRevision(tenant));

    assertThat(store.tenant(tenant.id())).contains(tenant);
  }

  @Test
  void createdTenantStartsAtRevisionZeroWithNothingInIt() {
    Tenant tenant = createTenant("acme");

    Optional<RevisionSnapshot> zero = store.inTenant(tenant.id(), tx -> tx.revision(0));

    assertContents(contents(tenant.id()), TenantContents.initial(tenant));
    assertThat(zero).contains(initialRevision(tenant));
  }

  @Test
  void unknownTenantReadsAsEmpty() {
    createTenant("acme");

    assertThat(store.tenant(TenantId.of("other"))).isEmpty();
  }

  @Test
  void createTenantRefusesAnExistingId() {
    Tenant original = createTenant("acme");
    Tenant again =
        new Tenant(original.id(), "Another name", BASE, Optional.empty(), PollingSettings.DEFAULT);

    assertThatThrownBy(() -> store.createTenant(again, initialRevision(again)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.tenant(original.id())).contains(original);
  }

  @Test
  void tenantsAreOrderedById() {
    ORDER_PROBE_IDS.forEach(this::createTenant);

    List<String> ids =
        store.tenants(Optional.empty(), PageRequest.first()).items().stream()
            .map(t -> t.id().value())
            .toList();

    assertThat(ids).containsExactlyElementsOf(SORTED_PROBE_IDS);
  }

  @Test
  void tenantsPageThroughEveryTenantOnceInOrder() {
    List<String> ids = List.of("t5", "t2", "t7", "t1", "t4", "t6", "t3");
    ids.forEach(this::createTenant);

    List<Page<Tenant>> pages = allPages(page -> store.tenants(Optional.empty(), page), 3);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(3, 3, 1);
    assertThat(items(pages))
        .extracting(t -> t.id().value())
        .containsExactly("t1", "t2", "t3", "t4", "t5", "t6", "t7");
  }

  @Test
  void aFullLastPageHasNoNextCursor() {
    List.of("t1", "t2", "t3", "t4").forEach(this::createTenant);

    List<Page<Tenant>> pages = allPages(page -> store.tenants(Optional.empty(), page), 2);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(2, 2);
  }

  @Test
  void tenantsFilterByDistributor() {
    AdminKeyId north = AdminKeyId.of("north");
    AdminKeyId south = AdminKeyId.of("south");
    store.createAdminKey(distributorKey("north"));
    store.createAdminKey(distributorKey("south"));
    Tenant a = createTenant(tenant("a", north));
    Tenant b = createTenant(tenant("b", south));
    Tenant c = createTenant(tenant("c", north));
    Tenant d = createTenant("d");

    assertThat(store.tenants(Optional.of(north), PageRequest.first()).items())
        .containsExactly(a, c);
    assertThat(store.tenants(Optional.of(south), PageRequest.first()).items()).containsExactly(b);
    assertThat(store.tenants(Optional.empty(), PageRequest.first()).items())
        .containsExactly(a, b, c, d);
  }

  @Test
  void deleteTenantReportsWhetherItExisted() {
    TenantId id = createTenant("acme").id();

    assertThat(store.deleteTenant(id)).isTrue();
    assertThat(store.deleteTenant(id)).isFalse();
    assertThat(store.tenant(id)).isEmpty();
    assertThat(store.tenants(Optional.empty(), PageRequest.first()).items()).isEmpty();
  }

  @Test
  void aDeletedTenantCannotBeOpened() {
    TenantId id = createTenant("acme").id();
    write(id, tx -> tx.putPolicy(policy("p1", Targets.allAgents())));

    store.deleteTenant(id);

    assertThatThrownBy(() -> store.inTenant(id, TenantTransaction::policies))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void deleteTenantRemovesItsTenantAdminKeysButNoOthers() {
    store.createAdminKey(operatorKey("op"));
    store.createAdminKey(distributorKey("dist"));
    TenantId doomed = createTenant(tenant("doomed", AdminKeyId.of("dist"))).id();
    TenantId kept = createTenant("kept").id();
    store.createAdminKey(tenantAdminKey("doomed-admin-1", doomed));
    store.createAdminKey(tenantAdminKey("doomed-admin-2", doomed));
    store.createAdminKey(tenantAdminKey("kept-admin", kept));

    store.deleteTenant(doomed);

    assertThat(store.adminKey(AdminKeyId.of("doomed-admin-1"))).isEmpty();
    assertThat(store.adminKey(AdminKeyId.of("doomed-admin-2"))).isEmpty();
    assertThat(store.adminKeys(Optional.of(doomed), PageRequest.first()).items()).isEmpty();
    assertThat(store.adminKey(AdminKeyId.of("kept-admin"))).isPresent();
    assertThat(store.adminKeys(Optional.empty(), PageRequest.first()).items())
        .extracting(key -> key.id().value())
        .containsExactly("dist", "op");
  }

  @Test
  void deleteTenantLeavesOtherTenantsDataAlone() {
    TenantId doomed = createTenant("doomed").id();
    TenantId kept = createTenant("kept").id();
    fillWithOneOfEverything(doomed);
    fillWithOneOfEverything(kept);
    TenantContents before = contents(kept);

    store.deleteTenant(doomed);

    assertContents(contents(kept), before);
  }

  @Test
  void aTenantCreatedAgainAfterDeletionStartsEmpty() {
    Tenant tenant = createTenant("acme");
    fillWithOneOfEverything(tenant.id());
    store.deleteTenant(tenant.id());

    store.createTenant(tenant, initialRevision(tenant));

    assertContents(contents(tenant.id()), TenantContents.initial(tenant));
  }

  @Test
  void updateTenantReplacesThePollingSettings() {
    Tenant tenant = createTenant("acme");
    Tenant updated = tenant.withPolling(new PollingSettings(Duration.ofMinutes(15), 0));

    write(tenant.id(), tx -> tx.updateTenant(updated));

    assertThat(store.tenant(tenant.id())).contains(updated);
    assertThat(store.inTenant(tenant.id(), TenantTransaction::tenant)).isEqualTo(updated);
  }

  // ------------------------------------------------------------------------------- admin keys

  @Test
  void adminKeysReadBackEqual() {
    TenantId tenant = createTenant("acme").id();
    AdminKey operator = operatorKey("op");
    AdminKey distributor = distributorKey("dist");
    AdminKey tenantAdmin = tenantAdminKey("admin", tenant);

    store.createAdminKey(operator);
    store.createAdminKey(distributor);
    store.createAdminKey(tenantAdmin);

    assertThat(store.adminKey(operator.id())).contains(operator);
    assertThat(store.adminKey(distributor.id())).contains(distributor);
    assertThat(store.adminKey(tenantAdmin.id())).contains(tenantAdmin);
    assertThat(store.adminKey(AdminKeyId.of("unknown"))).isEmpty();
  }

  @Test
  void createAdminKeyRefusesAnExistingId() {
    AdminKey original = operatorKey("op");
    store.createAdminKey(original);

    assertThatThrownBy(() -> store.createAdminKey(distributorKey("op")))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.adminKey(original.id())).contains(original);
  }

  @Test
  void deleteAdminKeyReportsWhetherItExisted() {
    store.createAdminKey(operatorKey("op"));
    store.createAdminKey(operatorKey("other"));

    assertThat(store.deleteAdminKey(AdminKeyId.of("op"))).isTrue();
    assertThat(store.deleteAdminKey(AdminKeyId.of("op"))).isFalse();
    assertThat(store.adminKey(AdminKeyId.of("op"))).isEmpty();
    assertThat(store.adminKey(AdminKeyId.of("other"))).isPresent();
  }

  @Test
  void serverWideKeyListingHoldsOnlyOperatorAndDistributorKeys() {
    TenantId tenant = createTenant("acme").id();
    AdminKey operator = operatorKey("op");
    AdminKey distributor = distributorKey("dist");
    store.createAdminKey(operator);
    store.createAdminKey(distributor);
    store.createAdminKey(tenantAdminKey("admin", tenant));

    assertThat(store.adminKeys(Optional.empty(), PageRequest.first()).items())
        .containsExactly(distributor, operator);
  }

  @Test
  void tenantKeyListingHoldsOnlyThatTenantsKeys() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();
    store.createAdminKey(operatorKey("op"));
    AdminKey acme1 = tenantAdminKey("acme-1", acme);
    AdminKey acme2 = tenantAdminKey("acme-2", acme);
    store.createAdminKey(acme2);
    store.createAdminKey(tenantAdminKey("globex-1", globex));
    store.createAdminKey(acme1);

    assertThat(store.adminKeys(Optional.of(acme), PageRequest.first()).items())
        .containsExactly(acme1, acme2);
  }

  @Test
  void adminKeysPageThroughEveryKeyOnceInIdOrder() {
    ORDER_PROBE_IDS.forEach(id -> store.createAdminKey(operatorKey(id)));

    List<Page<AdminKey>> pages = allPages(page -> store.adminKeys(Optional.empty(), page), 3);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(3, 3, 2);
    assertThat(items(pages))
        .extracting(key -> key.id().value())
        .containsExactlyElementsOf(SORTED_PROBE_IDS);
  }

  @Test
  void aTenantAdminKeyForAMissingTenantIsRefused() {
    AdminKey key = tenantAdminKey("admin", TenantId.of("missing"));

    assertThatThrownBy(() -> store.createAdminKey(key)).isInstanceOf(NotFoundException.class);
    assertThat(store.adminKey(key.id())).isEmpty();
  }

  // ----------------------------------------------------------------------------- server audit

  @Test
  void serverAuditReadsNewestFirst() {
    store.appendServerAudit(serverAudit(1));
    store.appendServerAudit(serverAudit(2));
    store.appendServerAudit(serverAudit(3));

    assertThat(store.serverAudit(PageRequest.first()).items())
        .containsExactly(serverAudit(3), serverAudit(2), serverAudit(1));
  }

  @Test
  void serverAuditPagesThroughEveryEntryOnce() {
    for (int n = 1; n <= 7; n++) {
      store.appendServerAudit(serverAudit(n));
    }

    List<Page<AuditEntry>> pages = allPages(store::serverAudit, 3);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(3, 3, 1);
    assertThat(items(pages))
        .containsExactly(
            serverAudit(7), serverAudit(6), serverAudit(5), serverAudit(4), serverAudit(3),
            serverAudit(2), serverAudit(1));
  }

  @Test
  void serverAuditRefusesAnEntryNamingATenant() {
    TenantId tenant = createTenant("acme").id();

    assertThatThrownBy(() -> store.appendServerAudit(tenantAudit(tenant, 1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(store.serverAudit(PageRequest.first()).items()).isEmpty();
  }

  // --------------------------------------------------------------------- tenant transactions

  @Test
  void inTenantRefusesAnUnknownTenant() {
    createTenant("acme");

    assertThatThrownBy(() -> store.inTenant(TenantId.of("missing"), TenantTransaction::tenant))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void inTenantReturnsWhatTheCallbackReturns() {
    TenantId id = createTenant("acme").id();

    String result = store.inTenant(id, tx -> "result of " + tx.tenant().id());

    assertThat(result).isEqualTo("result of acme");
  }

  @Test
  void aThrowingCallbackKeepsNoneOfItsWritesAndItsExceptionPropagates() {
    Tenant tenant = createTenant("acme");
    TenantId id = tenant.id();
    Policy policy = policy("p1", Targets.allAgents());
    TenantContents before = contents(id);
    RuntimeException boom = new Boom();

    Throwable thrown =
        catchThrowable(
            () ->
                store.inTenant(
                    id,
                    tx -> {
                      tx.putPolicy(policy);
                      tx.putAgent(agent(id, "a1"));
                      tx.addRevision(revision(1, List.of(policy)));
                      tx.appendAudit(tenantAudit(id, 1));
                      tx.putEnrollmentToken(enrollmentToken(id, "k1"));
                      tx.addSigningKey(signingKey("ed25519-1", 0));
                      tx.updateTenant(tenant.withPolling(PollingSettings.DEFAULT));
                      throw boom;
                    }));

    assertThat(thrown).isSameAs(boom);
    assertContents(contents(id), before);
    assertThat(store.tenant(id)).contains(tenant);
  }

  @Test
  void aThrowingCallbackRestoresWhatItReplacedOrDeleted() {
    TenantId id = createTenant("acme").id();
    Policy p1 = policy("p1", Targets.allAgents());
    Policy p2 = policy("p2", Targets.groups(Set.of("laptops")));
    Agent a1 = agent(id, "a1").withLastSeenAt(BASE.plusSeconds(10));
    Agent a2 = agent(id, "a2");
    EnrollmentToken k1 = enrollmentToken(id, "k1");
    EnrollmentToken k2 = enrollmentToken(id, "k2");
    write(
        id,
        tx -> {
          tx.putPolicy(p1);
          tx.putPolicy(p2);
          tx.putAgent(a1);
          tx.putAgent(a2);
          tx.putEnrollmentToken(k1);
          tx.putEnrollmentToken(k2);
        });
    TenantContents before = contents(id);
    RuntimeException boom = new Boom();

    Throwable thrown =
        catchThrowable(
            () ->
                store.inTenant(
                    id,
                    tx -> {
                      tx.putPolicy(new Policy(p1.id(), p2.spec(), 2, BASE.plusSeconds(5)));
                      tx.deletePolicy(p2.id());
                      tx.putAgent(a1.withGroups(Set.of("servers")));
                      tx.touchAgents(Map.of(a1.id(), BASE.plusSeconds(60)));
                      tx.deleteAgent(a2.id());
                      tx.putEnrollmentToken(k1.withOneMoreUse());
                      tx.deleteEnrollmentToken(k2.id());
                      throw boom;
                    }));

    assertThat(thrown).isSameAs(boom);
    assertContents(contents(id), before);
  }

  /**
   * Reads outside a tenant transaction see only what it committed. A store that blocks {@code
   * tenant()} while a transaction on that tenant is open passes too, after the writer gives up
   * waiting ({@value #WAIT_SECONDS} s) and rolls back.
   */
  @Test
  @Timeout(30)
  void aTenantUpdateIsInvisibleOutsideItsTransactionUntilCommitted() throws Exception {
    Tenant tenant = createTenant("acme");
    CountDownLatch updated = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService writerThread = Executors.newSingleThreadExecutor();
    try {
      Future<Object> writer =
          writerThread.submit(
              () ->
                  store.inTenant(
                      tenant.id(),
                      tx -> {
                        tx.updateTenant(tenant.withPolling(PollingSettings.DEFAULT));
                        updated.countDown();
                        awaitQuietly(release);
                        throw new Boom();
                      }));
      assertThat(updated.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

      Optional<Tenant> seenDuringTransaction = store.tenant(tenant.id());
      release.countDown();

      assertThat(seenDuringTransaction).contains(tenant);
      assertThatThrownBy(() -> writer.get(WAIT_SECONDS, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(Boom.class);
      assertThat(store.tenant(tenant.id())).contains(tenant);
    } finally {
      release.countDown();
      shutDown(writerThread);
    }
  }

  // ------------------------------------------------------------------------ tenant isolation

  @Test
  void writesInOneTenantAreInvisibleFromAnother() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();
    TenantContents globexBefore = contents(globex);

    fillWithOneOfEverything(acme);

    assertContents(contents(globex), globexBefore);
    Optional<Policy> policy = store.inTenant(globex, tx -> tx.policy(PolicyId.of("p1")));
    Optional<Agent> agent = store.inTenant(globex, tx -> tx.agent(AgentId.of("a1")));
    Optional<EnrollmentToken> token =
        store.inTenant(globex, tx -> tx.enrollmentToken(EnrollmentTokenId.of("k1")));
    Optional<RevisionSnapshot> revision = store.inTenant(globex, tx -> tx.revision(1));
    assertThat(policy).isEmpty();
    assertThat(agent).isEmpty();
    assertThat(token).isEmpty();
    assertThat(revision).isEmpty();
  }

  @Test
  void writesByIdInOneTenantDoNotReachAnother() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();
    fillWithOneOfEverything(acme);
    TenantContents acmeBefore = contents(acme);

    List<Boolean> deleted =
        store.inTenant(
            globex,
            tx -> {
              tx.touchAgents(Map.of(AgentId.of("a1"), BASE.plusSeconds(99)));
              return List.of(
                  tx.deletePolicy(PolicyId.of("p1")),
                  tx.deleteAgent(AgentId.of("a1")),
                  tx.deleteEnrollmentToken(EnrollmentTokenId.of("k1")));
            });

    assertThat(deleted).containsExactly(false, false, false);
    assertContents(contents(acme), acmeBefore);
    assertThat(store.inTenant(globex, TenantTransaction::agents)).isEmpty();
  }

  @Test
  void theSameIdsInTwoTenantsNameSeparateRecords() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();
    Policy acmePolicy = policy("p1", Targets.allAgents());
    Policy globexPolicy = policy("p1", Targets.groups(Set.of("servers")));
    write(
        acme,
        tx -> {
          tx.putPolicy(acmePolicy);
          tx.putAgent(agent(acme, "a1"));
          tx.putEnrollmentToken(enrollmentToken(acme, "k1"));
          tx.addRevision(revision(1, List.of(acmePolicy)));
        });
    write(
        globex,
        tx -> {
          tx.putPolicy(globexPolicy);
          tx.putAgent(agent(globex, "a1"));
          tx.putEnrollmentToken(enrollmentToken(globex, "k1"));
          tx.addRevision(revision(1, List.of(globexPolicy)));
        });
    TenantContents globexBefore = contents(globex);

    write(
        acme,
        tx -> {
          tx.deletePolicy(PolicyId.of("p1"));
          tx.deleteAgent(AgentId.of("a1"));
          tx.deleteEnrollmentToken(EnrollmentTokenId.of("k1"));
        });

    TenantContents globexAfter = contents(globex);
    assertContents(globexAfter, globexBefore);
    assertThat(globexAfter.policies()).containsExactly(globexPolicy);
    assertThat(globexAfter.agents()).containsExactly(agent(globex, "a1"));
    assertThat(globexAfter.enrollmentTokens()).containsExactly(enrollmentToken(globex, "k1"));
    assertThat(globexAfter.latestRevision()).isEqualTo(revision(1, List.of(globexPolicy)));
    assertThat(contents(acme).latestRevision()).isEqualTo(revision(1, List.of(acmePolicy)));
  }

  @Test
  void putAgentRefusesAnAgentOfAnotherTenant() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();

    assertThatThrownBy(() -> write(acme, tx -> tx.putAgent(agent(globex, "a1"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(store.inTenant(acme, TenantTransaction::agents)).isEmpty();
    assertThat(store.inTenant(globex, TenantTransaction::agents)).isEmpty();
  }

  @Test
  void putEnrollmentTokenRefusesATokenOfAnotherTenant() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();

    assertThatThrownBy(
            () -> write(acme, tx -> tx.putEnrollmentToken(enrollmentToken(globex, "k1"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(store.inTenant(acme, TenantTransaction::enrollmentTokens)).isEmpty();
    assertThat(store.inTenant(globex, TenantTransaction::enrollmentTokens)).isEmpty();
  }

  @Test
  void appendAuditRefusesAnEntryOfAnotherTenant() {
    TenantId acme = createTenant("acme").id();
    TenantId globex = createTenant("globex").id();

    assertThatThrownBy(() -> write(acme, tx -> tx.appendAudit(tenantAudit(globex, 1))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(firstAuditPage(acme)).isEmpty();
    assertThat(firstAuditPage(globex)).isEmpty();
  }

  @Test
  void updateTenantRefusesAnotherTenant() {
    Tenant acme = createTenant("acme");
    Tenant globex = createTenant("globex");

    assertThatThrownBy(
            () ->
                write(
                    acme.id(),
                    tx -> tx.updateTenant(globex.withPolling(PollingSettings.DEFAULT))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(store.tenant(acme.id())).contains(acme);
    assertThat(store.tenant(globex.id())).contains(globex);
  }

  // -------------------------------------------------------------------------------- policies

  @Test
  void aPolicyTargetingGroupsRoundTripsWithItsNestedSettings() {
    TenantId id = createTenant("acme").id();
    Policy template = policy("p1", Targets.groups(Set.of("laptops", "finance")));
    Policy policy =
        new Policy(template.id(), template.spec(), 3, BASE.plusNanos(456_789_123));

    write(id, tx -> tx.putPolicy(policy));

    Policy read = store.inTenant(id, tx -> tx.policy(policy.id())).orElseThrow();
    assertThat(read).isEqualTo(policy);
    assertThat(read.spec().settings()).isEqualTo(template.spec().settings());
    assertThat(read.spec().targets()).isEqualTo(Targets.groups(Set.of("finance", "laptops")));
    assertThat(read.updatedAt()).isEqualTo(BASE.plusMillis(456));
  }

  @Test
  void aPolicyTargetingAllAgentsRoundTrips() {
    TenantId id = createTenant("acme").id();
    Policy policy = policy("p1", Targets.allAgents());

    write(id, tx -> tx.putPolicy(policy));

    Policy read = store.inTenant(id, tx -> tx.policy(policy.id())).orElseThrow();
    assertThat(read).isEqualTo(policy);
    assertThat(read.spec().targets()).isSameAs(Targets.allAgents());
  }

  @Test
  void aPolicyTargetingNoGroupRoundTrips() {
    TenantId id = createTenant("acme").id();
    Policy policy = policy("p1", Targets.groups(Set.of()));

    write(id, tx -> tx.putPolicy(policy));

    Optional<Policy> read = store.inTenant(id, tx -> tx.policy(policy.id()));
    assertThat(read).contains(policy);
  }

  @Test
  void putPolicyReplacesById() {
    TenantId id = createTenant("acme").id();
    Policy first = policy("p1", Targets.allAgents());
    Policy second =
        new Policy(
            first.id(), policy("p1", Targets.groups(Set.of("servers"))).spec(), 2,
            BASE.plusSeconds(1));
    write(id, tx -> tx.putPolicy(first));

    write(id, tx -> tx.putPolicy(second));

    assertThat(store.inTenant(id, TenantTransaction::policies)).containsExactly(second);
  }

  @Test
  void deletePolicyReportsWhetherItExisted() {
    TenantId id = createTenant("acme").id();
    Policy kept = policy("p2", Targets.allAgents());
    write(
        id,
        tx -> {
          tx.putPolicy(policy("p1", Targets.allAgents()));
          tx.putPolicy(kept);
        });

    boolean deleted = store.inTenant(id, tx -> tx.deletePolicy(PolicyId.of("p1")));
    boolean deletedAgain = store.inTenant(id, tx -> tx.deletePolicy(PolicyId.of("p1")));

    assertThat(deleted).isTrue();
    assertThat(deletedAgain).isFalse();
    Optional<Policy> gone = store.inTenant(id, tx -> tx.policy(PolicyId.of("p1")));
    assertThat(gone).isEmpty();
    assertThat(store.inTenant(id, TenantTransaction::policies)).containsExactly(kept);
  }

  @Test
  void policiesAreOrderedById() {
    TenantId id = createTenant("acme").id();

    write(id, tx -> ORDER_PROBE_IDS.forEach(p -> tx.putPolicy(policy(p, Targets.allAgents()))));

    assertThat(store.inTenant(id, TenantTransaction::policies))
        .extracting(p -> p.id().value())
        .containsExactlyElementsOf(SORTED_PROBE_IDS);
  }

  // ------------------------------------------------------------------------------- revisions

  @Test
  void addRevisionAppendsTheNextNumberWithItsPolicies() {
    TenantId id = createTenant("acme").id();
    Policy p1 = policy("p1", Targets.allAgents());
    Policy p2 = policy("p2", Targets.groups(Set.of("laptops")));
    RevisionSnapshot first = revision(1, List.of(p2, p1));

    write(id, tx -> tx.addRevision(first));

    RevisionSnapshot latest = store.inTenant(id, TenantTransaction::latestRevision);
    Optional<RevisionSnapshot> read = store.inTenant(id, tx -> tx.revision(1));
    assertThat(latest).isEqualTo(first);
    assertThat(read).contains(first);
    assertThat(read.orElseThrow().policies()).containsExactly(p1, p2);
    assertThat(read.orElseThrow().polling()).isEqualTo(first.polling());
  }

  @Test
  void addRevisionRefusesAGap() {
    TenantId id = createTenant("acme").id();

    assertThatThrownBy(() -> write(id, tx -> tx.addRevision(revision(2, List.of()))))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.inTenant(id, TenantTransaction::latestRevision).number()).isZero();
    Optional<RevisionSnapshot> gone = store.inTenant(id, tx -> tx.revision(2));
    assertThat(gone).isEmpty();
  }

  @Test
  void addRevisionRefusesARepeatedNumber() {
    TenantId id = createTenant("acme").id();
    RevisionSnapshot first = revision(1, List.of());
    write(id, tx -> tx.addRevision(first));
    RevisionSnapshot again = revision(1, List.of(policy("p1", Targets.allAgents())));

    assertThatThrownBy(() -> write(id, tx -> tx.addRevision(again)))
        .isInstanceOf(IllegalStateException.class);
    Optional<RevisionSnapshot> kept = store.inTenant(id, tx -> tx.revision(1));
    assertThat(kept).contains(first);
    assertThat(store.inTenant(id, TenantTransaction::latestRevision)).isEqualTo(first);
  }

  @Test
  void addRevisionRefusesRevisionZeroAgain() {
    Tenant tenant = createTenant("acme");

    assertThatThrownBy(() -> write(tenant.id(), tx -> tx.addRevision(revision(0, List.of()))))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.inTenant(tenant.id(), TenantTransaction::latestRevision))
        .isEqualTo(initialRevision(tenant));
  }

  @Test
  void anUnpublishedRevisionNumberReadsAsEmpty() {
    TenantId id = createTenant("acme").id();
    write(id, tx -> tx.addRevision(revision(1, List.of())));

    Optional<RevisionSnapshot> gone = store.inTenant(id, tx -> tx.revision(2));
    assertThat(gone).isEmpty();
  }

  @Test
  void revisionsPageNewestFirst() {
    Tenant tenant = createTenant("acme");
    write(
        tenant.id(),
        tx -> LongStream.rangeClosed(1, 7).forEach(n -> tx.addRevision(revision(n, List.of()))));

    List<Page<Revision>> pages =
        allPages(page -> store.inTenant(tenant.id(), tx -> tx.revisions(page)), 3);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(3, 3, 2);
    List<Revision> expected = new ArrayList<>();
    LongStream.iterate(7, n -> n >= 1, n -> n - 1)
        .forEach(n -> expected.add(revision(n, List.of()).revision()));
    expected.add(initialRevision(tenant).revision());
    assertThat(items(pages)).containsExactlyElementsOf(expected);
  }

  /**
   * Publishers that each read the latest revision and add the next one, concurrently on one
   * tenant: the store serialises their transactions, so every publish succeeds and the numbers
   * run from 1 to the number of publishes without a gap or a repeat.
   */
  @Test
  @Timeout(60)
  void concurrentPublishersNeitherRepeatNorSkipARevisionNumber() throws Exception {
    TenantId id = createTenant("acme").id();
    int publishers = 4;
    int publishesEach = 50;
    ExecutorService pool = Executors.newFixedThreadPool(publishers);
    CountDownLatch start = new CountDownLatch(1);
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    int published = 0;
    try {
      List<Future<Integer>> workers = new ArrayList<>();
      for (int i = 0; i < publishers; i++) {
        workers.add(
            pool.submit(
                () -> {
                  start.await();
                  int succeeded = 0;
                  for (int n = 0; n < publishesEach; n++) {
                    try {
                      store.inTenant(
                          id,
                          tx -> {
                            long next = tx.latestRevision().number() + 1;
                            tx.addRevision(revision(next, List.of()));
                            return next;
                          });
                      succeeded++;
                    } catch (RuntimeException e) {
                      failures.add(e);
                    }
                  }
                  return succeeded;
                }));
      }
      start.countDown();
      for (Future<Integer> worker : workers) {
        published += worker.get(WAIT_SECONDS * 4, TimeUnit.SECONDS);
      }
    } finally {
      shutDown(pool);
    }

    long latest = store.inTenant(id, tx -> tx.latestRevision().number());
    List<Long> numbers =
        items(allPages(page -> store.inTenant(id, tx -> tx.revisions(page)), 37)).stream()
            .map(Revision::number)
            .toList();
    assertThat(latest).isEqualTo(published);
    assertThat(numbers)
        .containsExactlyElementsOf(
            LongStream.iterate(latest, n -> n >= 0, n -> n - 1).boxed().toList());
    assertThat(failures).as("publishes that failed").isEmpty();
    assertThat(published).isEqualTo(publishers * publishesEach);
  }

  // ---------------------------------------------------------------------------------- agents

  @Test
  void anAgentRoundTripsLabelsGroupsStatusAndAppliedRevision() {
    TenantId id = createTenant("acme").id();
    Agent fresh = agent(id, "a1");
    Agent reported =
        agent(id, "a2")
            .withGroups(Set.of("servers"))
            .withStatus(new AgentStatus(4, AgentState.APPLIED, "applied", BASE.plusSeconds(40)))
            .withStatus(new AgentStatus(5, AgentState.FAILED, "bad rule ✗", BASE.plusSeconds(50)))
            .withLastSeenAt(BASE.plusSeconds(55));

    write(
        id,
        tx -> {
          tx.putAgent(fresh);
          tx.putAgent(reported);
        });

    Agent readFresh = store.inTenant(id, tx -> tx.agent(fresh.id())).orElseThrow();
    Agent readReported = store.inTenant(id, tx -> tx.agent(reported.id())).orElseThrow();
    assertThat(readFresh).isEqualTo(fresh);
    assertThat(readFresh.lastSeenAt()).isEmpty();
    assertThat(readFresh.appliedRevision()).isEmpty();
    assertThat(readFresh.status()).isEmpty();
    assertThat(readReported).isEqualTo(reported);
    assertThat(readReported.labels()).containsExactlyEntriesOf(reported.labels());
    assertThat(readReported.groups()).containsExactly("servers");
    assertThat(readReported.publishedGroups()).containsExactlyInAnyOrder("finance", "laptops");
    assertThat(readReported.appliedRevision()).hasValue(4);
    assertThat(readReported.status().orElseThrow().state()).isEqualTo(AgentState.FAILED);
  }

  @Test
  void putAgentReplacesById() {
    TenantId id = createTenant("acme").id();
    Agent first = agent(id, "a1");
    Agent second = first.withGroups(Set.of("servers")).withGroupsPublished();
    write(id, tx -> tx.putAgent(first));

    write(id, tx -> tx.putAgent(second));

    assertThat(store.inTenant(id, TenantTransaction::agents)).containsExactly(second);
  }

  @Test
  void deleteAgentReportsWhetherItExisted() {
    TenantId id = createTenant("acme").id();
    Agent kept = agent(id, "a2");
    write(
        id,
        tx -> {
          tx.putAgent(agent(id, "a1"));
          tx.putAgent(kept);
        });

    boolean deleted = store.inTenant(id, tx -> tx.deleteAgent(AgentId.of("a1")));
    boolean deletedAgain = store.inTenant(id, tx -> tx.deleteAgent(AgentId.of("a1")));

    assertThat(deleted).isTrue();
    assertThat(deletedAgain).isFalse();
    Optional<Agent> gone = store.inTenant(id, tx -> tx.agent(AgentId.of("a1")));
    assertThat(gone).isEmpty();
    assertThat(store.inTenant(id, TenantTransaction::agents)).containsExactly(kept);
  }

  @Test
  void agentsAreOrderedById() {
    TenantId id = createTenant("acme").id();

    write(id, tx -> ORDER_PROBE_IDS.forEach(a -> tx.putAgent(agent(id, a))));

    assertThat(store.inTenant(id, TenantTransaction::agents))
        .extracting(a -> a.id().value())
        .containsExactlyElementsOf(SORTED_PROBE_IDS);
  }

  @Test
  void touchAgentsRecordsWhenAgentsWereSeen() {
    TenantId id = createTenant("acme").id();
    Agent neverSeen = agent(id, "a1");
    Agent seenBefore = agent(id, "a2").withLastSeenAt(BASE.plusSeconds(10));
    write(
        id,
        tx -> {
          tx.putAgent(neverSeen);
          tx.putAgent(seenBefore);
        });

    write(
        id,
        tx ->
            tx.touchAgents(
                Map.of(
                    neverSeen.id(), BASE.plusSeconds(20), seenBefore.id(), BASE.plusSeconds(30))));

    assertThat(store.inTenant(id, tx -> tx.agent(neverSeen.id())).orElseThrow().lastSeenAt())
        .contains(BASE.plusSeconds(20));
    assertThat(store.inTenant(id, tx -> tx.agent(seenBefore.id())).orElseThrow())
        .isEqualTo(seenBefore.withLastSeenAt(BASE.plusSeconds(30)));
  }

  @Test
  void touchAgentsIgnoresAnOlderInstant() {
    TenantId id = createTenant("acme").id();
    Agent agent = agent(id, "a1").withLastSeenAt(BASE.plusSeconds(30));
    write(id, tx -> tx.putAgent(agent));

    write(id, tx -> tx.touchAgents(Map.of(agent.id(), BASE.plusSeconds(20))));

    assertThat(store.inTenant(id, tx -> tx.agent(agent.id())).orElseThrow()).isEqualTo(agent);
  }

  @Test
  void touchAgentsSkipsUnknownAgents() {
    TenantId id = createTenant("acme").id();
    Agent known = agent(id, "a1");
    write(id, tx -> tx.putAgent(known));

    write(
        id,
        tx ->
            tx.touchAgents(
                Map.of(
                    known.id(), BASE.plusSeconds(5), AgentId.of("revoked"), BASE.plusSeconds(5))));

    assertThat(store.inTenant(id, TenantTransaction::agents))
        .containsExactly(known.withLastSeenAt(BASE.plusSeconds(5)));
  }

  // ----------------------------------------------------------------------- enrollment tokens

  @Test
  void enrollmentTokensRoundTripAndListInIdOrder() {
    TenantId id = createTenant("acme").id();

    write(
        id, tx -> ORDER_PROBE_IDS.forEach(k -> tx.putEnrollmentToken(enrollmentToken(id, k))));

    Optional<EnrollmentToken> read =
        store.inTenant(id, tx -> tx.enrollmentToken(EnrollmentTokenId.of("a-b")));
    assertThat(read).contains(enrollmentToken(id, "a-b"));
    assertThat(store.inTenant(id, TenantTransaction::enrollmentTokens))
        .containsExactlyElementsOf(
            SORTED_PROBE_IDS.stream().map(k -> enrollmentToken(id, k)).toList());
  }

  @Test
  void aTokensUseIsKept() {
    TenantId id = createTenant("acme").id();
    EnrollmentToken token = enrollmentToken(id, "k1");
    write(id, tx -> tx.putEnrollmentToken(token));

    write(
        id,
        tx -> tx.putEnrollmentToken(tx.enrollmentToken(token.id()).orElseThrow().withOneMoreUse()));

    EnrollmentToken read = store.inTenant(id, tx -> tx.enrollmentToken(token.id())).orElseThrow();
    assertThat(read.uses()).isEqualTo(1);
    assertThat(read).isEqualTo(token.withOneMoreUse());
  }

  @Test
  void deleteEnrollmentTokenReportsWhetherItExisted() {
    TenantId id = createTenant("acme").id();
    EnrollmentToken kept = enrollmentToken(id, "k2");
    write(
        id,
        tx -> {
          tx.putEnrollmentToken(enrollmentToken(id, "k1"));
          tx.putEnrollmentToken(kept);
        });

    EnrollmentTokenId k1 = EnrollmentTokenId.of("k1");
    boolean deleted = store.inTenant(id, tx -> tx.deleteEnrollmentToken(k1));
    boolean deletedAgain = store.inTenant(id, tx -> tx.deleteEnrollmentToken(k1));

    assertThat(deleted).isTrue();
    assertThat(deletedAgain).isFalse();
    Optional<EnrollmentToken> gone = store.inTenant(id, tx -> tx.enrollmentToken(k1));
    assertThat(gone).isEmpty();
    assertThat(store.inTenant(id, TenantTransaction::enrollmentTokens)).containsExactly(kept);
  }

  // ---------------------------------------------------------------------------- signing keys

  @Test
  void signingKeysListOldestFirstWithTheirBytes() {
    TenantId id = createTenant("acme").id();
    StoredSigningKey oldest = signingKey("ed25519-zz", 0);
    StoredSigningKey middle = signingKey("ed25519-aa", 60);
    StoredSigningKey newest = signingKey("ed25519-mm", 120);

    write(id, tx -> tx.addSigningKey(oldest));
    write(id, tx -> tx.addSigningKey(middle));
    write(id, tx -> tx.addSigningKey(newest));

    List<StoredSigningKey> read = store.inTenant(id, TenantTransaction::signingKeys);
    assertThat(read).containsExactly(oldest, middle, newest);
    assertThat(read.get(0).publicKey()).isEqualTo(oldest.publicKey());
    assertThat(read.get(0).sealedPrivateKey()).isEqualTo(oldest.sealedPrivateKey());
  }

  @Test
  void signingKeyCreatedAtRoundTripsAtMillisecondPrecision() {
    TenantId id = createTenant("acme").id();
    StoredSigningKey template = signingKey("ed25519-aa", 0);
    StoredSigningKey key =
        new StoredSigningKey(
            template.keyId(), template.publicKey(), template.sealedPrivateKey(),
            BASE.plusNanos(654_321));

    write(id, tx -> tx.addSigningKey(key));

    StoredSigningKey read = store.inTenant(id, TenantTransaction::signingKeys).get(0);
    assertThat(read).isEqualTo(key);
    assertThat(read.createdAt()).isEqualTo(BASE);
  }

  @Test
  void addSigningKeyRefusesAnExistingKeyId() {
    TenantId id = createTenant("acme").id();
    StoredSigningKey original = signingKey("ed25519-aa", 0);
    write(id, tx -> tx.addSigningKey(original));
    StoredSigningKey sameId =
        new StoredSigningKey(original.keyId(), new byte[] {1}, new byte[] {2}, BASE.plusSeconds(1));

    assertThatThrownBy(() -> write(id, tx -> tx.addSigningKey(sameId)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.inTenant(id, TenantTransaction::signingKeys)).containsExactly(original);
  }

  // ---------------------------------------------------------------------------- tenant audit

  @Test
  void tenantAuditPagesNewestFirst() {
    TenantId id = createTenant("acme").id();
    write(id, tx -> tx.appendAudit(tenantAudit(id, 1)));
    write(
        id,
        tx -> {
          for (int n = 2; n <= 7; n++) {
            tx.appendAudit(tenantAudit(id, n));
          }
        });

    List<Page<AuditEntry>> pages = allPages(page -> store.inTenant(id, tx -> tx.audit(page)), 3);

    assertThat(pages).extracting(page -> page.items().size()).containsExactly(3, 3, 1);
    assertThat(items(pages))
        .containsExactly(
            tenantAudit(id, 7), tenantAudit(id, 6), tenantAudit(id, 5), tenantAudit(id, 4),
            tenantAudit(id, 3), tenantAudit(id, 2), tenantAudit(id, 1));
  }

  // --------------------------------------------------------------------------------- cursors

  @Test
  void tenantsRefuseACursorTheStoreDidNotIssue() {
    List.of("t1", "t2", "t3").forEach(this::createTenant);

    assertRefusesForeignCursors(page -> store.tenants(Optional.empty(), page));
  }

  @Test
  void adminKeysRefuseACursorTheStoreDidNotIssue() {
    List.of("k1", "k2", "k3").forEach(k -> store.createAdminKey(operatorKey(k)));

    assertRefusesForeignCursors(page -> store.adminKeys(Optional.empty(), page));
  }

  @Test
  void serverAuditRefusesACursorTheStoreDidNotIssue() {
    for (int n = 1; n <= 3; n++) {
      store.appendServerAudit(serverAudit(n));
    }

    assertRefusesForeignCursors(store::serverAudit);
    assertRefusesCursor(store::serverAudit, Pages.encode("not-a-number"));
  }

  @Test
  void revisionsRefuseACursorTheStoreDidNotIssue() {
    TenantId id = createTenant("acme").id();
    write(id, tx -> tx.addRevision(revision(1, List.of())));

    Function<PageRequest, Page<Revision>> revisions =
        page -> store.inTenant(id, tx -> tx.revisions(page));
    assertRefusesForeignCursors(revisions);
    assertRefusesCursor(revisions, Pages.encode("not-a-number"));
  }

  @Test
  void tenantAuditRefusesACursorTheStoreDidNotIssue() {
    TenantId id = createTenant("acme").id();
    write(id, tx -> tx.appendAudit(tenantAudit(id, 1)));

    Function<PageRequest, Page<AuditEntry>> audit =
        page -> store.inTenant(id, tx -> tx.audit(page));
    assertRefusesForeignCursors(audit);
    assertRefusesCursor(audit, Pages.encode("not-a-number"));
  }

  // ------------------------------------------------------------------------------- lifecycle

  @Test
  void anOpenStoreIsReachable() {
    assertThatCode(store::checkReachable).doesNotThrowAnyException();
  }

  /**
   * After {@code close()} every call fails. The contract asks only for some {@link
   * RuntimeException}: the in-memory store throws {@link IllegalStateException}, a database
   * store may surface its closed pool as {@link io.egosecure.core.StoreUnavailableException}.
   */
  @Test
  void callsAfterCloseFail() {
    Tenant tenant = createTenant("acme");
    store.createAdminKey(operatorKey("op"));

    store.close();

    assertThatThrownBy(store::checkReachable).isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.tenant(tenant.id())).isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.tenants(Optional.empty(), PageRequest.first()))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> createTenant("other")).isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.deleteTenant(tenant.id()))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.adminKey(AdminKeyId.of("op")))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.createAdminKey(operatorKey("op2")))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.appendServerAudit(serverAudit(1)))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.serverAudit(PageRequest.first()))
        .isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> store.inTenant(tenant.id(), TenantTransaction::policies))
        .isInstanceOf(RuntimeException.class);
  }

  // --------------------------------------------------------------------------------- helpers

  /** Creates {@code tenant("id")} with its revision 0. */
  protected Tenant createTenant(String id) {
    return createTenant(tenant(id));
  }

  protected Tenant createTenant(Tenant tenant) {
    store.createTenant(tenant, initialRevision(tenant));
    return tenant;
  }

  /**
   * Everything a tenant holds, read in one transaction: what a rollback must leave as it was and
   * what another tenant's writes must not change.
   *
   * @param revisions newest first
   * @param audit newest first
   */
  public record TenantContents(
      Tenant tenant,
      List<Policy> policies,
      List<Agent> agents,
      List<EnrollmentToken> enrollmentTokens,
      List<StoredSigningKey> signingKeys,
      List<AuditEntry> audit,
      RevisionSnapshot latestRevision,
      List<Revision> revisions) {

    /** What {@code tenant} holds right after {@link PolicyStore#createTenant}. */
    public static TenantContents initial(Tenant tenant) {
      RevisionSnapshot zero = initialRevision(tenant);
      return new TenantContents(
          tenant, List.of(), List.of(), List.of(), List.of(), List.of(), zero,
          List.of(zero.revision()));
    }
  }

  protected TenantContents contents(TenantId tenant) {
    PageRequest all = PageRequest.first(PageRequest.MAX_LIMIT);
    return store.inTenant(
        tenant,
        tx ->
            new TenantContents(
                tx.tenant(),
                tx.policies(),
                tx.agents(),
                tx.enrollmentTokens(),
                tx.signingKeys(),
                tx.audit(all).items(),
                tx.latestRevision(),
                tx.revisions(all).items()));
  }

  /** Compares two {@link TenantContents} part by part, reporting every part that differs. */
  protected static void assertContents(TenantContents actual, TenantContents expected) {
    SoftAssertions.assertSoftly(
        soft -> {
          soft.assertThat(actual.tenant()).as("tenant").isEqualTo(expected.tenant());
          soft.assertThat(actual.policies()).as("policies").isEqualTo(expected.policies());
          soft.assertThat(actual.agents()).as("agents").isEqualTo(expected.agents());
          soft.assertThat(actual.enrollmentTokens())
              .as("enrollment tokens")
              .isEqualTo(expected.enrollmentTokens());
          soft.assertThat(actual.signingKeys())
              .as("signing keys")
              .isEqualTo(expected.signingKeys());
          soft.assertThat(actual.audit()).as("audit").isEqualTo(expected.audit());
          soft.assertThat(actual.latestRevision())
              .as("latest revision")
              .isEqualTo(expected.latestRevision());
          soft.assertThat(actual.revisions()).as("revisions").isEqualTo(expected.revisions());
        });
  }

  /** The newest entries of {@code tenant}'s audit log. */
  protected List<AuditEntry> firstAuditPage(TenantId tenant) {
    return store.inTenant(tenant, tx -> tx.audit(PageRequest.first()).items());
  }

  /** Runs {@code work} in a transaction on {@code tenant} and commits it. */
  protected void write(TenantId tenant, Consumer<TenantTransaction> work) {
    store.inTenant(
        tenant,
        tx -> {
          work.accept(tx);
          return null;
        });
  }

  /**
   * Puts one policy (p1), agent (a1), enrollment token (k1), signing key, audit entry and
   * revision 1 into {@code tenant}.
   */
  protected void fillWithOneOfEverything(TenantId tenant) {
    Policy policy = policy("p1", Targets.allAgents());
    write(
        tenant,
        tx -> {
          tx.putPolicy(policy);
          tx.putAgent(agent(tenant, "a1"));
          tx.putEnrollmentToken(enrollmentToken(tenant, "k1"));
          tx.addSigningKey(signingKey("ed25519-" + tenant.value(), 0));
          tx.appendAudit(tenantAudit(tenant, 1));
          tx.addRevision(revision(1, List.of(policy)));
        });
  }

  /**
   * Every page of a listing, following each page's cursor from the first page of {@code limit}
   * items until a page without one.
   */
  protected static <T> List<Page<T>> allPages(Function<PageRequest, Page<T>> list, int limit) {
    List<Page<T>> pages = new ArrayList<>();
    PageRequest request = PageRequest.first(limit);
    while (true) {
      Page<T> page = list.apply(request);
      assertThat(page.items()).as("page %d", pages.size() + 1).hasSizeLessThanOrEqualTo(limit);
      pages.add(page);
      if (page.next().isEmpty()) {
        return pages;
      }
      assertThat(pages).as("pages before a last one").hasSizeLessThan(10_000);
      request = request.after(page.next().get());
    }
  }

  protected static <T> List<T> items(List<Page<T>> pages) {
    return pages.stream().flatMap(page -> page.items().stream()).toList();
  }

  /** Cursors no store issues: not base64url, base64url of something else, empty. */
  private static void assertRefusesForeignCursors(
      Function<PageRequest, ? extends Page<?>> list) {
    assertRefusesCursor(list, "garbage");
    assertRefusesCursor(list, "!!not base64!!");
    assertRefusesCursor(
        list,
        Base64.getUrlEncoder().withoutPadding()
            .encodeToString("t1".getBytes(StandardCharsets.UTF_8)));
    assertRefusesCursor(
        list,
        Base64.getEncoder().encodeToString("{\"after\":\"t1\"}".getBytes(StandardCharsets.UTF_8)));
  }

  private static void assertRefusesCursor(
      Function<PageRequest, ? extends Page<?>> list, String cursor) {
    assertThatThrownBy(() -> list.apply(PageRequest.first(1).after(cursor)))
        .as("cursor %s", cursor)
        .isInstanceOf(ValidationException.class);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void shutDown(ExecutorService pool) throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS))
        .as("worker threads ended")
        .isTrue();
  }

  /** Thrown from a callback to roll its transaction back. */
  private static final class Boom extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Boom() {
      super("boom");
    }
  }
}
