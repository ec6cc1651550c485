package io.egosecure.core.model;

/** Who a caller is. Each admin key carries one role; agents authenticate as {@link #AGENT}. */
public enum Role {
  /** Runs the server: every tenant, every admin key. */
  OPERATOR,
  /** Creates tenants for its own customers and manages only those. */
  DISTRIBUTOR,
  /** Manages one tenant. */
  TENANT_ADMIN,
  /** One enrolled endpoint; uses the agent API only. */
  AGENT
}
