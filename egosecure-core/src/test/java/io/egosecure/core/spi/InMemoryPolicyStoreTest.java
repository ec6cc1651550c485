package io.egosecure.core.spi;

/** {@link PolicyStore#inMemory()} against the contract every store passes. */
class InMemoryPolicyStoreTest extends PolicyStoreContract {

  @Override
  protected PolicyStore newStore() {
    return PolicyStore.inMemory();
  }
}
