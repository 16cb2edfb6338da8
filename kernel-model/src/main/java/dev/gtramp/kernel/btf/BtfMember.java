package dev.gtramp.kernel.btf;

import java.util.Objects;

/**
 * One {@code struct btf_member} of a {@code STRUCT} or {@code UNION}.
 *
 * <p>With the container's {@code kind_flag} set, the raw {@code offset} word packs the bitfield size
 * into bits 24..31 and the bit offset into bits 0..23 ({@code BTF_MEMBER_BITFIELD_SIZE},
 * {@code BTF_MEMBER_BIT_OFFSET}); without it the whole word is the bit offset and the bitfield size
 * is 0 (a bitfield is then described by an {@code INT}'s own bits).
 *
 * @param name         the member name, {@code ""} for an anonymous member
 * @param type         the member's type id
 * @param bitOffset    offset of the member from the start of the container, in bits
 * @param bitfieldSize the bitfield width in bits, or 0 when the member is not a bitfield
 */
public record BtfMember(String name, int type, long bitOffset, int bitfieldSize) {
    public BtfMember {
        Objects.requireNonNull(name, "name");
    }

    /** Decodes the raw {@code btf_member.offset} word under the container's {@code kind_flag}. */
    static BtfMember decode(String name, int type, int offsetWord, boolean kindFlag) {
        if (kindFlag) {
            return new BtfMember(name, type, offsetWord & 0xffffff, offsetWord >>> 24);
        }
        return new BtfMember(name, type, Integer.toUnsignedLong(offsetWord), 0);
    }
}
