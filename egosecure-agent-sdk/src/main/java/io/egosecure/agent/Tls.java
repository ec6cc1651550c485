package io.egosecure.agent;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The agent's TLS: whom it trusts (given certificates or the system's), optional public-key pins,
 * an optional client certificate, TLS 1.3 and 1.2 only, host names always checked.
 */
final class Tls {
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  static final String PIN_PREFIX = "sha256/";
  private static final int MAX_PATH_LENGTH = 10;

  private Tls() {}

  /** Every certificate in a PEM text; at least one, else the text is no trust anchor. */
  static List<X509Certificate> certificates(String pem) {
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Certificate certificate :
          factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certificates.add((X509Certificate) certificate);
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not PEM certificates: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no certificate in the PEM text");
    }
    return certificates;
  }

  /** The pin of a certificate's public key: {@code sha256/} and the base64 SHA-256 of its SPKI. */
  static String pinOf(Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded());
      return PIN_PREFIX + Base64.getEncoder().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  static void checkPin(String pin) {
    if (!pin.startsWith(PIN_PREFIX)) {
      throw new IllegalArgumentException("a pin is sha256/<base64 of the SPKI's SHA-256>, not " + pin);
    }
    byte[] digest;
    try {
      digest = Base64.getDecoder().decode(pin.substring(PIN_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a pin's digest is base64: " + pin, e);
    }
    if (digest.length != 32) {
      throw new IllegalArgumentException("a pin's digest is 32 bytes (SHA-256), not " + digest.length + ": " + pin);
    }
  }

  /**
   * @param anchors trusted certificates; empty for the system's trust store
   * @param pins if not empty, the server's chain must hold one of these keys (after the usual checks)
   * @param clientKeys a PKCS#12 (or other) key store with the client certificate, or null
   */
  static SSLContext context(List<X509Certificate> anchors, Set<String> pins, KeyStore clientKeys,
      char[] clientKeyPassword) {
    try {
      TrustManagerFactory trustFactory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (anchors.isEmpty()) {
        trustFactory.init((KeyStore) null);
      } else {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < anchors.size(); i++) {
          trust.setCertificateEntry("anchor-" + i, anchors.get(i));
        }
        trustFactory.init(trust);
      }
      X509ExtendedTrustManager trustManager = null;
      for (TrustManager candidate : trustFactory.getTrustManagers()) {
        if (candidate instanceof X509ExtendedTrustManager extended) {
          trustManager = extended;
        }
      }
      if (trustManager == null) {
        throw new IllegalStateException("the platform offers no X509ExtendedTrustManager");
      }
      KeyManager[] keyManagers = null;
      if (clientKeys != null) {
        KeyManagerFactory keyFactory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyFactory.init(clientKeys, clientKeyPassword);
        keyManagers = keyFactory.getKeyManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers,
          new TrustManager[] {pins.isEmpty() ? trustManager : new PinningTrustManager(trustManager, pins)}, null);
      return context;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** TLS 1.3 and 1.2 only, and the server's certificate must name the host dialled. */
  static SSLParameters parameters(SSLContext context) {
    SSLParameters parameters = context.getDefaultSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    return parameters;
  }

  /**
   * The usual PKIX checks first, then the pins: a pinned key anywhere in the chain (leaf,
   * intermediate or root) is enough, as with OkHttp's CertificatePinner.
   */
  static final class PinningTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final Set<String> pins;

    PinningTrustManager(X509ExtendedTrustManager delegate, Set<String> pins) {
      this.delegate = delegate;
      this.pins = Set.copyOf(pins);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
      checkPins(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
      checkPins(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
      checkPins(chain);
    }

    /**
     * Pins are checked on the path that leads to a trusted certificate, not on the chain as sent:
     * a server could append the pinned certificate to a chain it does not lead to
     * (OkHttp's CVE-2016-2402).
     */
    private void checkPins(X509Certificate[] chain) throws CertificateException {
      for (X509Certificate certificate : trustedPath(chain)) {
        if (pins.contains(pinOf(certificate))) {
          return;
        }
      }
      throw new CertificateException("no key on the server's certificate path is pinned");
    }

    /** From the leaf, each certificate's signer, until a trusted certificate signs (or is) one. */
    private List<X509Certificate> trustedPath(X509Certificate[] chain) throws CertificateException {
      List<X509Certificate> anchors = List.of(delegate.getAcceptedIssuers());
      List<X509Certificate> path = new ArrayList<>();
      X509Certificate current = chain[0];
      path.add(current);
      for (int depth = 0; depth < MAX_PATH_LENGTH; depth++) {
        X509Certificate anchor = signer(current, anchors);
        if (anchor != null) {
          if (!anchor.equals(current)) {
            path.add(anchor);
          }
          return path;
        }
        X509Certificate next = signer(current, List.of(chain));
        if (next == null || next.equals(current)) {
          break;
        }
        path.add(next);
        current = next;
      }
      throw new CertificateException("no path from the server's certificate to a trusted one");
    }

    private static X509Certificate signer(X509Certificate certificate, List<X509Certificate> candidates) {
      for (X509Certificate candidate : candidates) {
        if (candidate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
          try {
            certificate.verify(candidate.getPublicKey());
            return candidate;
          } catch (GeneralSecurityException e) {
            // Same name, other key: not this one's signer.
          }
        }
      }
      return null;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("an agent accepts no client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("an agent accepts no client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("an agent accepts no client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }
}
