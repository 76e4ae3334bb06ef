package vn.medseal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Path;

/**
 * The HTTPS connection to the hub (mutual TLS, pinned hub CA). Immutable: share it between
 * threads and outboxes. Build with {@link #builder(String)}.
 */
public final class Transport extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_transport_free(p);
        }
    };

    private Transport(Pointer peer) {
        super(peer, FREE, "Transport");
    }

    /** A transport configuration for the hub at {@code url} ({@code https://host[:port][/base]}; http is refused). */
    public static Builder builder(String url) {
        return new Builder(Ffi.notNull(url, "url"));
    }

    /**
     * The transport for a facility directory: the hospital's {@code client.key} ({@code medseal facility init}) and
     * what {@code medseal hub enroll} wrote beside it (client.pem, hub-ca.pem, receipt.pub, tree-head.pub).
     */
    public static Transport forFacility(String url, Path facilityDir) {
        return builder(url).facilityDir(facilityDir).build();
    }

    /** Transport options; {@link #build()} checks them. The client key is wiped from the builder's copies on build. */
    public static final class Builder {
        private final String url;
        private Path facilityDir;
        private byte[] clientCertificate;
        private byte[] clientKey;
        private String tokenModule;
        private String tokenLabel;
        private String tokenKeyLabel;
        private char[] tokenPin;
        private byte[] hubCa;
        private boolean publicRoots;
        private Key receiptKey;
        private Key treeHeadKey;
        private Integer connectTimeoutMs;
        private Integer timeoutMs;
        private Integer batchSize;
        private String proxy;
        private boolean proxyFromEnv;

        private Builder(String url) {
            this.url = url;
        }

        /** Reads client.pem, client.key, hub-ca.pem, receipt.pub and tree-head.pub from {@code dir}. */
        public Builder facilityDir(Path dir) {
            this.facilityDir = dir;
            return this;
        }

        /** The client certificate chain (PEM, the facility's certificate first). */
        public Builder clientCertificate(byte[] pem) {
            this.clientCertificate = pem == null ? null : pem.clone();
            return this;
        }

        /** The client private key (PEM, unencrypted). Copied; wipe yours. */
        public Builder clientKey(byte[] pem) {
            Ffi.wipe(this.clientKey);
            this.clientKey = pem == null ? null : pem.clone();
            return this;
        }

        /**
         * The client private key kept on a PKCS#11 token (made there by {@code medseal facility init --tls-pkcs11-module
         * M --tls-pkcs11-token T --tls-key-label L}): the module's path, the token's label, the key's label and the user
         * PIN (copied, wiped on build; never in a message). Each TLS handshake is signed on the token (P-256, or RSA with
         * RSA-PSS); the facility directory then needs no client.key. A wrong PIN is {@code MEDSEAL_PKCS11_PIN}
         * ({@link SignerException}) when the transport is built.
         */
        public Builder clientKeyPkcs11(String module, String tokenLabel, String keyLabel, char[] pin) {
            this.tokenModule = Ffi.notNull(module, "module");
            this.tokenLabel = Ffi.notNull(tokenLabel, "tokenLabel");
            this.tokenKeyLabel = Ffi.notNull(keyLabel, "keyLabel");
            if (this.tokenPin != null) {
                java.util.Arrays.fill(this.tokenPin, '\0');
            }
            this.tokenPin = Ffi.notNull(pin, "pin").clone();
            return this;
        }

        /** Pins the hub's CA (PEM). */
        public Builder hubCa(byte[] pem) {
            this.hubCa = pem == null ? null : pem.clone();
            return this;
        }

        /** Trusts the public web roots instead of a pinned hub CA. */
        public Builder publicRoots(boolean on) {
            this.publicRoots = on;
            return this;
        }

        /** The hub's receipt key (public): receipts must verify with it. */
        public Builder receiptKey(Key key) {
            this.receiptKey = key;
            return this;
        }

        /** The hub's tree-head key (public). */
        public Builder treeHeadKey(Key key) {
            this.treeHeadKey = key;
            return this;
        }

        public Builder connectTimeoutMillis(int ms) {
            this.connectTimeoutMs = ms;
            return this;
        }

        public Builder timeoutMillis(int ms) {
            this.timeoutMs = ms;
            return this;
        }

        /** Records per batch, 1 to 1000. */
        public Builder batchSize(int records) {
            this.batchSize = records;
            return this;
        }

        /** An HTTP CONNECT proxy: {@code http://[user:password@]host[:port]}. */
        public Builder proxy(String url) {
            this.proxy = url;
            return this;
        }

        /** Takes the proxy from HTTPS_PROXY/ALL_PROXY (honouring NO_PROXY). */
        public Builder proxyFromEnv(boolean on) {
            this.proxyFromEnv = on;
            return this;
        }

        /** Builds the transport ({@code MEDSEAL_TRANSPORT_CONFIG} if something is missing or wrong); no connection yet. */
        public Transport build() {
            byte[] u = Ffi.utf8(url);
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_transport_builder_new(u, Ffi.len(u), out));
            Pointer b = out.getValue();
            try {
                if (tokenPin != null) {
                    // Before the facility directory, which then reads no client.key.
                    byte[] m = Ffi.utf8(tokenModule);
                    byte[] t = Ffi.utf8(tokenLabel);
                    byte[] l = Ffi.utf8(tokenKeyLabel);
                    byte[] p = Ffi.utf8Secret(tokenPin);
                    try {
                        Ffi.check(Lib.medseal_transport_builder_set_client_key_pkcs11(b, m, Ffi.len(m), t, Ffi.len(t), l, Ffi.len(l),
                                p, Ffi.len(p)));
                    } finally {
                        Ffi.wipe(p);
                    }
                }
                if (facilityDir != null) {
                    byte[] d = Ffi.utf8(facilityDir.toString());
                    Ffi.check(Lib.medseal_transport_builder_set_facility_dir(b, d, Ffi.len(d)));
                }
                if (clientCertificate != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_client_certificate(b, clientCertificate, Ffi.len(clientCertificate)));
                }
                if (clientKey != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_client_key(b, clientKey, Ffi.len(clientKey)));
                }
                if (hubCa != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_hub_ca(b, hubCa, Ffi.len(hubCa)));
                }
                if (publicRoots) {
                    Ffi.check(Lib.medseal_transport_builder_set_public_roots(b, 1));
                }
                setKey(b, receiptKey, true);
                setKey(b, treeHeadKey, false);
                if (connectTimeoutMs != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_connect_timeout_ms(b, connectTimeoutMs));
                }
                if (timeoutMs != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_timeout_ms(b, timeoutMs));
                }
                if (batchSize != null) {
                    Ffi.check(Lib.medseal_transport_builder_set_batch_size(b, batchSize));
                }
                if (proxy != null) {
                    byte[] p = Ffi.utf8(proxy);
                    Ffi.check(Lib.medseal_transport_builder_set_proxy(b, p, Ffi.len(p)));
                }
                if (proxyFromEnv) {
                    Ffi.check(Lib.medseal_transport_builder_set_proxy_from_env(b, 1));
                }
                PointerByReference t = new PointerByReference();
                Ffi.check(Lib.medseal_transport_builder_build(b, t));
                return new Transport(t.getValue());
            } finally {
                Lib.medseal_transport_builder_free(b);
                if (tokenPin != null) {
                    java.util.Arrays.fill(tokenPin, '\0');
                    tokenPin = null;
                }
            }
        }

        private static void setKey(Pointer b, Key key, boolean receipt) {
            if (key == null) {
                return;
            }
            Pointer k = key.ref.acquire();
            try {
                Ffi.check(receipt ? Lib.medseal_transport_builder_set_receipt_key(b, k)
                        : Lib.medseal_transport_builder_set_tree_head_key(b, k));
            } finally {
                key.ref.release();
            }
        }
    }
}
