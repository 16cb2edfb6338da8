package dev.gtramp.kernel.btf;

import java.nio.ByteOrder;
import java.util.Objects;

/**
 * {@code struct btf_header} as read from the start of a raw BTF blob. Section offsets are relative
 * to the end of the header ({@code hdr_len}), as in the kernel; the {@code u32} fields are held
 * unsigned in {@code long}s.
 *
 * <p>Invariant once {@link BtfReader} has accepted it: {@code magic == 0xeB9F}, {@code version == 1},
 * {@code flags == 0}, {@code hdrLen >= 24}, and both sections lie inside the blob without overlapping.
 *
 * @param magic     {@code BTF_MAGIC}, {@code 0xeB9F}
 * @param version   {@code BTF_VERSION}, 1
 * @param flags     reserved, 0
 * @param hdrLen    {@code hdr_len}: the header size; sections start after it
 * @param typeOff   {@code type_off}: offset of the type section after the header
 * @param typeLen   {@code type_len}: its length in bytes
 * @param strOff    {@code str_off}: offset of the string section after the header
 * @param strLen    {@code str_len}: its length in bytes
 * @param byteOrder the byte order of the blob, as its magic shows (not a header field)
 */
public record BtfHeader(int magic, int version, int flags, long hdrLen, long typeOff, long typeLen,
                        long strOff, long strLen, ByteOrder byteOrder) {

    /** {@code BTF_MAGIC}. */
    public static final int MAGIC = 0xeB9F;
    /** {@code BTF_VERSION}. */
    public static final int VERSION = 1;
    /** {@code sizeof(struct btf_header)}. */
    public static final int SIZE = 24;

    public BtfHeader {
        Objects.requireNonNull(byteOrder, "byteOrder");
    }

    /** Absolute offset of the type section from the start of the blob. */
    public long typeStart() {
        return hdrLen + typeOff;
    }

    /** Absolute offset of the string section from the start of the blob. */
    public long strStart() {
        return hdrLen + strOff;
    }
}
