package io.egosecure.transport.https;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The server's TLS identity, and optionally the certificates agents must present. Protocols are
 * TLS 1.3 and 1.2 only; cipher suites are AEAD ones with forward secrecy only, AES-128-GCM
 * preferred: as strong for this use, and cheaper per connection than AES-256 (a smaller key
 * schedule held for every idle push socket, fewer rounds for every notification sent).
 *
 * <pre>{@code
 * TlsConfig tls = TlsConfig.pem(Path.of("server.crt"), Path.of("server.key"));
 * TlsConfig mtls = tls.requireClientCertificates(Path.of("agents-ca.crt"));
 * }</pre>
 */
public final class TlsConfig {
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  /** In the server's order of preference; those a provider lacks are left out. */
  static final String[] CIPHER_SUITES = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  };
  private static final char[] IN_MEMORY_PASSWORD = "in-memory".toCharArray();

  private final KeyStore keyStore;
  private final char[] password;
  private final Optional<KeyStore> trustedClients;
  private final Optional<Provider> provider;

  private TlsConfig(KeyStore keyStore, char[] password, Optional<KeyStore> trustedClients, Optional<Provider> provider) {
    this.keyStore = keyStore;
    this.password = password.clone();
    this.trustedClients = trustedClients;
    this.provider = provider;
  }

  /** A key store already in memory, holding one private key entry and its chain. */
  public static TlsConfig keyStore(KeyStore keyStore, char[] password) {
    return new TlsConfig(requireNonNull(keyStore, "keyStore == null"), requireNonNull(password, "password == null"),
        Optional.empty(), Optional.empty());
  }

  /** A PKCS#12 file. */
  public static TlsConfig pkcs12(Path file, char[] password) {
    requireNonNull(file, "file == null");
    requireNonNull(password, "password == null");
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      return keyStore(store, password);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the PKCS#12 key store " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A PEM certificate chain (server certificate first) and a PEM PKCS#8 private key ({@code BEGIN
   * PRIVATE KEY}; EC, RSA or Ed25519).
   */
  public static TlsConfig pem(Path certificateChain, Path privateKey) {
    requireNonNull(certificateChain, "certificateChain == null");
    requireNonNull(privateKey, "privateKey == null");
    Certificate[] chain = certificates(certificateChain).toArray(Certificate[]::new);
    if (chain.length == 0) {
      throw new IllegalArgumentException("no certificate in " + certificateChain);
    }
    PrivateKey key = privateKey(privateKey);
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("server", key, IN_MEMORY_PASSWORD, chain);
      return keyStore(store, IN_MEMORY_PASSWORD);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("the key in " + privateKey + " does not fit the certificate in " + certificateChain, e);
    }
  }

  /**
   * The same identity, requiring every client to present a certificate issued by (or equal to)
   * one in {@code trustedCertificates} (PEM). In v1 the certificate is required in addition to
   * the bearer credential.
   */
  public TlsConfig requireClientCertificates(Path trustedCertificates) {
    requireNonNull(trustedCertificates, "trustedCertificates == null");
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates(trustedCertificates)) {
        trust.setCertificateEntry("trusted-" + i++, certificate);
      }
      if (i == 0) {
        throw new IllegalArgumentException("no certificate in " + trustedCertificates);
      }
      return new TlsConfig(keyStore, password, Optional.of(trust), provider);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read " + trustedCertificates + ": " + e.getMessage(), e);
    }
  }

  /**
   * The same identity, with TLS done by {@code provider} instead of the JDK's own, for example
   * Conscrypt ({@code org.conscrypt.Conscrypt.newProvider()}), whose handshakes cost a fraction
   * of the JDK's. The provider is used through this server's SSLContext only; nothing is
   * registered JVM-wide.
   */
  public TlsConfig withProvider(Provider provider) {
    return new TlsConfig(keyStore, password, trustedClients, Optional.of(requireNonNull(provider, "provider == null")));
  }

  boolean requiresClientCertificates() {
    return trustedClients.isPresent();
  }

  SslContextFactory.Server sslContextFactory() {
    SslContextFactory.Server factory = new SslContextFactory.Server();
    factory.setKeyStore(keyStore);
    factory.setKeyStorePassword(new String(password));
    factory.setKeyManagerPassword(new String(password));
    factory.setIncludeProtocols(PROTOCOLS);
    factory.setIncludeCipherSuites(CIPHER_SUITES);
    factory.setUseCipherSuitesOrder(true);
    // No TLS 1.2 renegotiation, said here rather than left to Jetty's and the JDK's defaults:
    // agents never need it, and each one a client asks for would cost the server a handshake.
    factory.setRenegotiationAllowed(false);
    // A client from a NAT'd fleet reconnects often: let it resume instead of a full handshake.
    factory.setSessionCachingEnabled(true);
    trustedClients.ifPresent(trust -> {
      factory.setTrustStore(trust);
      factory.setNeedClientAuth(true);
    });
    provider.ifPresent(p -> factory.setSslContext(sslContext(p)));
    return factory;
  }

  /** An SSLContext of {@code provider} over this identity; Jetty still applies the protocols. */
  private SSLContext sslContext(Provider provider) {
    try {
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(keyStore, password);
      TrustManager[] trust = null;
      if (trustedClients.isPresent()) {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trustedClients.get());
        trust = factory.getTrustManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS", provider);
      context.init(keys.getKeyManagers(), trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the TLS provider " + provider.getName() + " cannot use this identity: " + e.getMessage(), e);
    }
  }

  private static Collection<? extends Certificate> certificates(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read certificates from " + pem + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey privateKey(Path pem) {
    String text;
    try {
      text = Files.readString(pem, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + pem + ": " + e.getMessage(), e);
    }
    int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = text.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(pem + " holds no PKCS#8 'BEGIN PRIVATE KEY' block");
    }
    byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
    for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException notThisOne) {
        // try the next algorithm
      }
    }
    throw new IllegalArgumentException(pem + " holds a private key that is not EC, RSA or Ed25519");
  }
}
