package io.egosecure.examples.server;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed EC P-256 certificate for the reference server, with subject alternative names
 * for localhost, the loopback addresses, this machine's host name and the listen address, so
 * clients on this machine and on the LAN can check the host name. BouncyCastle only builds the
 * ASN.1; keys and signatures are the JDK's, and no provider is registered.
 */
final class SelfSignedCertificate {
  static final Duration VALIDITY = Duration.ofDays(5 * 365);
  private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9-]{1,63})*");
  private static final Pattern IP_ADDRESS = Pattern.compile("[0-9.]+|.*:.*");

  /** The PEM texts to write as server.crt and server.key. */
  record Pem(String certificate, String privateKey) {}

  private SelfSignedCertificate() {}

  static Pem generate(String listenHost) throws StartupException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      KeyPair pair = generator.generateKeyPair();
      X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
          .addRDN(BCStyle.CN, "EgoSecure reference server")
          .build();
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          name,
          new BigInteger(127, new SecureRandom()),
          // A little in the past, for clients whose clocks run slow.
          Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(VALIDITY)),
          name,
          pair.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      // Self-signed: the certificate is its own CA, which is what --ca FILE and curl --cacert expect.
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
          alternativeNames(listenHost).toArray(GeneralName[]::new)));
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
      return new Pem(pem("CERTIFICATE", certificate.getEncoded()), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new StartupException("cannot generate a self-signed certificate: " + e.getMessage(), e);
    }
  }

  static List<GeneralName> alternativeNames(String listenHost) {
    Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
    localHostName().ifPresent(names::add);
    if (!listenHost.equals("0.0.0.0") && !listenHost.equals("::")) {
      names.add(listenHost);
    }
    List<GeneralName> general = new ArrayList<>();
    for (String name : names) {
      if (IP_ADDRESS.matcher(name).matches()) {
        general.add(new GeneralName(GeneralName.iPAddress, name));
      } else if (DNS_NAME.matcher(name).matches()) {
        general.add(new GeneralName(GeneralName.dNSName, name));
      }
    }
    return general;
  }

  private static Optional<String> localHostName() {
    try {
      return Optional.of(InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      // No resolvable host name: localhost and the loopback addresses still work.
      return Optional.empty();
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
