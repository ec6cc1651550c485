package io.egosecure.core.model;

/** What an agent last reported about the PolicySet it received. */
public enum AgentState {
  /** The agent verified and applied the revision it names. */
  APPLIED,
  /** The agent rejected or failed to apply the revision it names; the message says why. */
  FAILED
}
