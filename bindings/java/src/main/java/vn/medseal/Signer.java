package vn.medseal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * Signs records: canonicalizes the JSON (strict policy by default) and writes a JWS (JAdES
 * baseline: {@code typ medseal+jws}, {@code sigT}, optional {@code x5c}). Immutable: share it
 * between threads.
 */
public final class Signer extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_signer_free(p);
        }
    };

    private final Callbacks callbacks;

    private Signer(Pointer peer, Callbacks callbacks) {
        super(peer, FREE, "Signer");
        this.callbacks = callbacks;
        ref.attach(callbacks);
    }

    /** A signer for {@code key} (private) with the medseal defaults. */
    public Signer(Key key) {
        this(builder(key).buildPeer(), null);
    }

    /** Options for a signer with a private key held by medseal. */
    public static Builder builder(Key key) {
        return new Builder(Source.KEY, Ffi.notNull(key, "key"), null);
    }

    /**
     * Options for a signer whose private key lives in the host: {@code host} signs, and every
     * signature it returns is checked against {@code publicKey} (whose algorithm is the signer's;
     * load an RSA key with {@link Algorithm#PS256} to sign PS256) before a JWS is written.
     */
    public static Builder builder(Key publicKey, HostSigner host) {
        return new Builder(Source.CALLBACK, Ffi.notNull(publicKey, "publicKey"), Ffi.notNull(host, "host"));
    }

    /**
     * Options for a signer with a key on a PKCS#11 token: the module's path, the token's label, the
     * key's label ({@code CKA_LABEL}), the user PIN (copied, then wiped from medseal's copy; wipe
     * yours), and the algorithm (null: RS256 for RSA, ES256 for P-256; or PS256/RS256).
     */
    public static Builder pkcs11Builder(String module, String tokenLabel, String keyLabel, char[] pin, Algorithm alg) {
        Builder b = new Builder(Source.PKCS11, null, null);
        b.module = Ffi.notNull(module, "module");
        b.tokenLabel = Ffi.notNull(tokenLabel, "tokenLabel");
        b.keyLabel = Ffi.notNull(keyLabel, "keyLabel");
        b.pin = Ffi.notNull(pin, "pin").clone();
        b.pkcs11Alg = alg;
        return b;
    }

    /** {@code MEDSEAL_MAX_SIGNATURE_BYTES}: the most bytes a host signature may have. */
    public static int maxSignatureBytes() {
        return (int) Lib.medseal_signer_max_signature_bytes().longValue();
    }

    private enum Source { KEY, CALLBACK, PKCS11 }

    /** Signer options. Each setter returns the builder; {@link #build()} may be called more than once. */
    public static final class Builder {
        private final Source source;
        private final Key key;
        private final HostSigner host;
        private String module;
        private String tokenLabel;
        private String keyLabel;
        private char[] pin;
        private Algorithm pkcs11Alg;
        private String kid;
        private Long signingTime;
        private byte[] chain;
        private String commitment;
        private Integer maxClockSkew;
        private Clock clock;
        private int flags;

        private Builder(Source source, Key key, HostSigner host) {
            this.source = source;
            this.key = key;
            this.host = host;
        }

        /** The {@code kid} header (1 to 256 bytes of UTF-8) instead of the key's thumbprint. */
        public Builder kid(String kid) {
            this.kid = kid;
            return this;
        }

        /** Fixes {@code sigT} (whole seconds, UTC) for reproducible output; default: the clock at each signature. */
        public Builder signingTime(Instant time) {
            this.signingTime = time == null ? null : time.getEpochSecond();
            return this;
        }

        /** The signer's certificate chain: PEM (the signer's first) or one DER certificate. */
        public Builder certificateChain(byte[] pemOrDer) {
            this.chain = pemOrDer == null ? null : pemOrDer.clone();
            return this;
        }

        /** The signer's certificate chain, the signer's certificate first. */
        public Builder certificateChain(X509Certificate... chain) {
            this.chain = chain == null || chain.length == 0 ? null : pem(chain);
            return this;
        }

        /** The JAdES {@code srCms} commitment: an ASTM E1762 OID, e.g. {@code "1.2.840.10065.1.12.1.1"}. */
        public Builder commitment(String oid) {
            this.commitment = oid;
            return this;
        }

        /** Refuses a fixed signing time further than {@code seconds} from the clock. */
        public Builder maxClockSkew(int seconds) {
            this.maxClockSkew = seconds;
            return this;
        }

        /** Replaces the system clock (for {@code sigT} and the clock guard). */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Canonicalization options used on records before signing (none: strict). */
        public Builder canon(CanonOption... options) {
            this.flags = CanonOption.flags(options);
            return this;
        }

        Pointer buildPeer() {
            return buildPeer(null);
        }

        private Pointer buildPeer(Callbacks callbacks) {
            PointerByReference out = new PointerByReference();
            switch (source) {
                case KEY: {
                    Pointer k = key.ref.acquire();
                    try {
                        Ffi.check(Lib.medseal_signer_builder_new(k, out));
                    } finally {
                        key.ref.release();
                    }
                    break;
                }
                case CALLBACK: {
                    Pointer k = key.ref.acquire();
                    try {
                        Ffi.check(Lib.medseal_signer_builder_from_callback(k, callbacks.sign, null, out));
                    } finally {
                        key.ref.release();
                    }
                    break;
                }
                default: {
                    byte[] m = Ffi.utf8(module);
                    byte[] t = Ffi.utf8(tokenLabel);
                    byte[] l = Ffi.utf8(keyLabel);
                    byte[] p = Ffi.utf8Secret(pin);
                    try {
                        Ffi.check(Lib.medseal_signer_builder_from_pkcs11(m, Ffi.len(m), t, Ffi.len(t), l, Ffi.len(l), p,
                                Ffi.len(p), pkcs11Alg == null ? 0 : pkcs11Alg.code, out));
                    } finally {
                        Ffi.wipe(p);
                    }
                }
            }
            Pointer b = out.getValue();
            try {
                if (kid != null) {
                    byte[] k = Ffi.utf8(kid);
                    Ffi.check(Lib.medseal_signer_builder_set_kid(b, k, Ffi.len(k)));
                }
                if (signingTime != null) {
                    Ffi.check(Lib.medseal_signer_builder_set_signing_time(b, signingTime));
                }
                if (chain != null) {
                    Ffi.check(Lib.medseal_signer_builder_set_certificate_chain(b, chain, Ffi.len(chain)));
                }
                if (commitment != null) {
                    byte[] c = Ffi.utf8(commitment);
                    Ffi.check(Lib.medseal_signer_builder_set_commitment(b, c, Ffi.len(c)));
                }
                if (maxClockSkew != null) {
                    if (maxClockSkew < 0) {
                        throw new IllegalArgumentException("maxClockSkew must be >= 0");
                    }
                    Ffi.check(Lib.medseal_signer_builder_set_max_clock_skew(b, maxClockSkew));
                }
                if (clock != null) {
                    Ffi.check(Lib.medseal_signer_builder_set_clock(b, callbacks.clock, null));
                }
                Ffi.check(Lib.medseal_signer_builder_set_canon_flags(b, flags));
                PointerByReference s = new PointerByReference();
                Ffi.check(Lib.medseal_signer_builder_build(b, s));
                return s.getValue();
            } finally {
                Lib.medseal_signer_builder_free(b);
            }
        }

        /** Builds the signer. For a PKCS#11 key this opens the token session (kept until the signer is closed). */
        public Signer build() {
            Callbacks callbacks = (host != null || clock != null) ? new Callbacks(host, clock) : null;
            Pointer peer = buildPeer(callbacks);
            return new Signer(peer, callbacks);
        }
    }

    /** PEM text of a certificate chain. */
    static byte[] pem(X509Certificate... chain) {
        StringBuilder b = new StringBuilder();
        Base64.Encoder encoder = Base64.getMimeEncoder(64, new byte[] {'\n'});
        for (X509Certificate c : chain) {
            try {
                b.append("-----BEGIN CERTIFICATE-----\n")
                        .append(encoder.encodeToString(Ffi.notNull(c, "certificate").getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("cannot encode certificate " + c.getSubjectX500Principal(), e);
            }
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** The Java objects the native signer calls back into; kept alive as long as the signer. */
    static final class Callbacks {
        final HostSigner host;
        final Clock clockSource;
        final ThreadLocal<Throwable> pending = new ThreadLocal<Throwable>();
        final Lib.SignCallback sign;
        final Lib.ClockCallback clock;

        Callbacks(HostSigner host, Clock clockSource) {
            this.host = host;
            this.clockSource = clockSource;
            this.sign = host == null ? null : new Lib.SignCallback() {
                @Override
                public int invoke(Pointer ctx, Pointer message, SizeT messageLen, Pointer signature, SizeT signatureCap,
                        Pointer signatureLen) {
                    return signCallback(message, messageLen, signature, signatureCap, signatureLen);
                }
            };
            this.clock = clockSource == null ? null : new Lib.ClockCallback() {
                @Override
                public long invoke(Pointer ctx) {
                    try {
                        return Callbacks.this.clockSource.instant().getEpochSecond();
                    } catch (Throwable t) {
                        pending.set(t);
                        return Long.MIN_VALUE;
                    }
                }
            };
        }

        int signCallback(Pointer message, SizeT messageLen, Pointer signature, SizeT signatureCap, Pointer signatureLen) {
            try {
                byte[] input = message.getByteArray(0, (int) messageLen.longValue());
                byte[] sig = host.sign(input);
                if (sig == null) {
                    throw new IllegalStateException("the HostSigner returned null");
                }
                if (sig.length > signatureCap.longValue()) {
                    throw new IllegalStateException("the HostSigner returned " + sig.length + " bytes, more than "
                            + signatureCap.longValue());
                }
                signature.write(0, sig, 0, sig.length);
                if (Ffi.SIZE_T == 8) {
                    signatureLen.setLong(0, sig.length);
                } else {
                    signatureLen.setInt(0, sig.length);
                }
                return 0;
            } catch (Throwable t) {
                pending.set(t);
                return -1;
            }
        }

        /** After a failed call: rethrows what a callback threw on this thread, if anything. */
        void rethrowPending(MedsealException failure) {
            Throwable t = pending.get();
            if (t == null) {
                return;
            }
            pending.remove();
            if (t instanceof RuntimeException) {
                t.addSuppressed(failure);
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                t.addSuppressed(failure);
                throw (Error) t;
            }
            throw MedsealException.of(failure.getCode(), failure.getDetail() + ": " + t, t);
        }

        void clearPending() {
            pending.remove();
        }
    }

    private RuntimeException callbackFailure(MedsealException e) {
        if (callbacks != null) {
            callbacks.rethrowPending(e);
        }
        return e;
    }

    /** Canonicalizes the JSON record and signs it; the JWS in JSON flattened form. */
    public byte[] sign(byte[] record) {
        return sign(record, JwsFormat.FLATTENED);
    }

    public byte[] sign(String record) {
        return sign(Ffi.utf8(Ffi.notNull(record, "record")), JwsFormat.FLATTENED);
    }

    /** Canonicalizes the JSON record and signs it; the JWS in {@code format}. */
    public byte[] sign(byte[] record, JwsFormat format) {
        Ffi.notNull(record, "record");
        Ffi.notNull(format, "format");
        Pointer p = ref.acquire();
        try {
            if (callbacks != null) {
                callbacks.clearPending();
            }
            PointerByReference out = new PointerByReference();
            int rc = Lib.medseal_signer_sign(p, record, Ffi.len(record), format.code, out);
            if (rc != Ffi.OK) {
                throw callbackFailure(MedsealException.of(rc, Ffi.lastErrorMessage()));
            }
            return Ffi.takeBuffer(out);
        } finally {
            ref.release();
        }
    }

    /** Signs the record (JWS JSON flattened), then seals the JWS to {@code recipients} (AES-256-GCM, protobuf). */
    public byte[] signAndSeal(byte[] record, Meta meta, List<RecipientKey> recipients) {
        return signAndSeal(record, meta, recipients, Aead.AES_256_GCM, EnvelopeEncoding.PROTOBUF);
    }

    /** Signs the record (JWS JSON flattened), then seals the JWS to {@code recipients}. */
    public byte[] signAndSeal(byte[] record, Meta meta, List<RecipientKey> recipients, Aead aead, EnvelopeEncoding encoding) {
        Ffi.notNull(record, "record");
        Ffi.notNull(meta, "meta");
        Ffi.notNull(recipients, "recipients");
        Ffi.notNull(aead, "aead");
        Ffi.notNull(encoding, "encoding");
        Pointer p = ref.acquire();
        Pointer[] acquired = new Pointer[recipients.size()];
        Pointer m = null;
        try {
            com.sun.jna.Memory array = Ffi.pointerArray(recipients, acquired);
            m = meta.toNative();
            if (callbacks != null) {
                callbacks.clearPending();
            }
            PointerByReference out = new PointerByReference();
            int rc = Lib.medseal_signer_sign_and_seal(p, record, Ffi.len(record), m, recipients.isEmpty() ? null : array,
                    new SizeT(recipients.size()), aead.code, encoding.code, out);
            if (rc != Ffi.OK) {
                throw callbackFailure(MedsealException.of(rc, Ffi.lastErrorMessage()));
            }
            return Ffi.takeBuffer(out);
        } finally {
            if (m != null) {
                Lib.medseal_meta_free(m);
            }
            Ffi.releaseAll(recipients, acquired);
            ref.release();
        }
    }

    /** The key this signer's signatures verify with (how a token or host signer's public key is found). */
    public Key publicKey() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_signer_public_key(p, out));
            return Key.take(out);
        } finally {
            ref.release();
        }
    }

    /** The thumbprint of {@link #publicKey()}. */
    public String kid() {
        try (Key k = publicKey()) {
            return k.kid();
        }
    }

    static List<RecipientKey> list(RecipientKey... keys) {
        return keys == null ? Collections.<RecipientKey>emptyList() : java.util.Arrays.asList(keys);
    }
}
