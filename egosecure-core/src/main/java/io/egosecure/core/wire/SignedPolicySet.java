package io.egosecure.core.wire;

import io.egosecure.core.model.PolicySet;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A signed PolicySet together with the exact JSON bytes an agent receives. */
public final class SignedPolicySet {
  private final PolicySet policySet;
  private final byte[] json;

  SignedPolicySet(PolicySet policySet, byte[] json) {
    this.policySet = policySet;
    this.json = json;
  }

  public PolicySet policySet() {
    return policySet;
  }

  /** The response body, read-only; each call returns an independent buffer over the same bytes. */
  public ByteBuffer json() {
    return ByteBuffer.wrap(json).asReadOnlyBuffer();
  }

  /** The response body as a string, for logs and tests. */
  public String jsonString() {
    return new String(json, StandardCharsets.UTF_8);
  }

  public int length() {
    return json.length;
  }
}
