package vn.medseal;

import java.util.Collection;

/** Canonicalization options ({@code medseal_canon_flag}); none is the strict medseal default. */
public enum CanonOption {
    /** Exactly RFC 8785: lossy numbers accepted, no NFC check. */
    PLAIN(1),
    /** Accept numbers whose canonical text differs ({@code 1.50} becomes {@code 1.5}). */
    ALLOW_LOSSY_NUMBERS(2),
    /** Normalize strings to NFC instead of refusing them. */
    NORMALIZE_NFC(4),
    /** FHIR {@code #data}: drop {@code text}. */
    FHIR_DATA(8),
    /** FHIR {@code #static}: drop {@code text} and {@code meta}. */
    FHIR_STATIC(16),
    /** FHIR {@code #document}: drop the root {@code id} and {@code meta}. */
    FHIR_DOCUMENT(32);

    final int flag;

    CanonOption(int flag) {
        this.flag = flag;
    }

    static int flags(CanonOption... options) {
        int flags = 0;
        for (CanonOption o : options) {
            flags |= Ffi.notNull(o, "option").flag;
        }
        return flags;
    }

    static int flags(Collection<CanonOption> options) {
        return flags(options.toArray(new CanonOption[0]));
    }
}
