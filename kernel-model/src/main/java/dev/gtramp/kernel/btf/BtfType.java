package dev.gtramp.kernel.btf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One BTF type: a {@code struct btf_type} and the kind-specific data after it, read in place from
 * the parsed type section of a {@link Btf}.
 *
 * <p>A {@code BtfType} is a view: it holds its {@link Btf}, its id and where its record starts, and
 * decodes fields on demand, so the parsed BTF keeps only the packed words of the type section rather
 * than one object per type and member. Views are cheap, immutable and equal when they name the same
 * id of the same {@link Btf}.
 *
 * <p>Accessors for kind-specific data throw {@link IllegalStateException} when called on a type of
 * another kind, naming the type; the layouts are those of {@code include/uapi/linux/btf.h}.
 */
public final class BtfType {
    /** {@code BTF_INT_SIGNED}. */
    public static final int INT_SIGNED = 1;
    /** {@code BTF_INT_CHAR}. */
    public static final int INT_CHAR = 2;
    /** {@code BTF_INT_BOOL}. */
    public static final int INT_BOOL = 4;

    private final Btf btf;
    private final int id;
    /** Word index of the record in the type section; -1 for {@code void}. */
    private final int pos;

    BtfType(Btf btf, int id, int pos) {
        this.btf = btf;
        this.id = id;
        this.pos = pos;
    }

    /** The type id: its 1-based position in the type section, 0 for {@code void}. */
    public int id() {
        return id;
    }

    /** The {@link Btf} this type belongs to. */
    public Btf btf() {
        return btf;
    }

    /** {@code BTF_INFO_KIND(info)}; {@link BtfKind#UNKN} for {@code void}. */
    public BtfKind kind() {
        return pos < 0 ? BtfKind.UNKN : BtfKind.of((info() >>> 24) & 0x1f);
    }

    /** {@code name_off}: the name's offset in the string section (0 for no name). */
    public int nameOffset() {
        return pos < 0 ? 0 : btf.word(pos);
    }

    /** The name, {@code ""} for an anonymous type or {@code void}. */
    public String name() {
        return btf.string(nameOffset());
    }

    /** The raw {@code info} word: {@code vlen} in bits 0..15, kind in 24..28, {@code kind_flag} in 31. */
    public int info() {
        return pos < 0 ? 0 : btf.word(pos + 1);
    }

    /** {@code BTF_INFO_VLEN(info)}: members, enumerators, params or section entries; a FUNC's linkage. */
    public int vlen() {
        return info() & 0xffff;
    }

    /** {@code BTF_INFO_KFLAG(info)}: bitfield layout, enum signedness, union forward, or tag as attribute. */
    public boolean kindFlag() {
        return info() < 0;
    }

    /** The raw third word of {@code btf_type}: a size or a type id depending on the kind. */
    public int sizeOrType() {
        return pos < 0 ? 0 : btf.word(pos + 2);
    }

    /**
     * {@code btf_type.size} of a sized kind ({@link BtfKind#hasSize()}): bytes of an int, float,
     * struct, union, enum or section.
     */
    public long size() {
        if (!kind().hasSize()) {
            throw wrongKind("a size");
        }
        return Integer.toUnsignedLong(sizeOrType());
    }

    /** {@code btf_type.type} of a referring kind ({@link BtfKind#hasTypeRef()}): the type it refers to. */
    public int type() {
        if (!kind().hasTypeRef()) {
            throw wrongKind("a type reference");
        }
        return sizeOrType();
    }

    /** {@code BTF_INT_ENCODING}: a combination of {@link #INT_SIGNED}, {@link #INT_CHAR}, {@link #INT_BOOL}. */
    public int intEncoding() {
        return (intData() >>> 24) & 0x0f;
    }

    /** Whether the {@code INT} is signed. */
    public boolean intSigned() {
        return (intEncoding() & INT_SIGNED) != 0;
    }

    /** {@code BTF_INT_OFFSET}: bit offset of the value inside the int's storage. */
    public int intOffset() {
        return (intData() >>> 16) & 0xff;
    }

    /** {@code BTF_INT_BITS}: the number of value bits. */
    public int intBits() {
        return intData() & 0xff;
    }

    private int intData() {
        requireKind(BtfKind.INT);
        return btf.word(pos + 3);
    }

    /** The {@code struct btf_array} of an {@code ARRAY}. */
    public BtfArray array() {
        requireKind(BtfKind.ARRAY);
        return new BtfArray(btf.word(pos + 3), btf.word(pos + 4), Integer.toUnsignedLong(btf.word(pos + 5)));
    }

    /** The members of a {@code STRUCT} or {@code UNION}, in declaration order. */
    public List<BtfMember> members() {
        BtfKind k = kind();
        if (k != BtfKind.STRUCT && k != BtfKind.UNION) {
            throw wrongKind("members");
        }
        boolean kflag = kindFlag();
        int n = vlen();
        List<BtfMember> out = new ArrayList<>(n);
        for (int i = 0, p = pos + 3; i < n; i++, p += 3) {
            out.add(BtfMember.decode(btf.string(btf.word(p)), btf.word(p + 1), btf.word(p + 2), kflag));
        }
        return Collections.unmodifiableList(out);
    }

    /** Whether an {@code ENUM}/{@code ENUM64} is signed ({@code kind_flag}); otherwise unsigned. */
    public boolean enumSigned() {
        BtfKind k = kind();
        if (k != BtfKind.ENUM && k != BtfKind.ENUM64) {
            throw wrongKind("enumerators");
        }
        return kindFlag();
    }

    /** The enumerators of an {@code ENUM} or {@code ENUM64}, values extended per {@link #enumSigned()}. */
    public List<BtfEnumValue> enumValues() {
        boolean signed = enumSigned();
        int n = vlen();
        List<BtfEnumValue> out = new ArrayList<>(n);
        if (kind() == BtfKind.ENUM) {
            for (int i = 0, p = pos + 3; i < n; i++, p += 2) {
                int v = btf.word(p + 1);
                out.add(new BtfEnumValue(btf.string(btf.word(p)), signed ? v : Integer.toUnsignedLong(v)));
            }
        } else {
            for (int i = 0, p = pos + 3; i < n; i++, p += 3) {
                long v = (long) btf.word(p + 2) << 32 | Integer.toUnsignedLong(btf.word(p + 1));
                out.add(new BtfEnumValue(btf.string(btf.word(p)), v));
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** The params of a {@code FUNC_PROTO}, a trailing {@code ...} included as a type-0 param. */
    public List<BtfParam> params() {
        requireKind(BtfKind.FUNC_PROTO);
        int n = vlen();
        List<BtfParam> out = new ArrayList<>(n);
        for (int i = 0, p = pos + 3; i < n; i++, p += 2) {
            out.add(new BtfParam(btf.string(btf.word(p)), btf.word(p + 1)));
        }
        return Collections.unmodifiableList(out);
    }

    /** {@code btf_func_linkage()}: the linkage a {@code FUNC} keeps in its {@code vlen}. */
    public Linkage funcLinkage() {
        requireKind(BtfKind.FUNC);
        return Linkage.of(vlen());
    }

    /**
     * {@code struct btf_var.linkage} of a {@code VAR}: 0 {@code BTF_VAR_STATIC}, 1
     * {@code BTF_VAR_GLOBAL_ALLOCATED}, 2 {@code BTF_VAR_GLOBAL_EXTERN}.
     */
    public int varLinkage() {
        requireKind(BtfKind.VAR);
        return btf.word(pos + 3);
    }

    /** The variables a {@code DATASEC} places, in order. */
    public List<BtfVarSecinfo> datasecEntries() {
        requireKind(BtfKind.DATASEC);
        int n = vlen();
        List<BtfVarSecinfo> out = new ArrayList<>(n);
        for (int i = 0, p = pos + 3; i < n; i++, p += 3) {
            out.add(new BtfVarSecinfo(btf.word(p), Integer.toUnsignedLong(btf.word(p + 1)),
                    Integer.toUnsignedLong(btf.word(p + 2))));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * {@code struct btf_decl_tag.component_idx} of a {@code DECL_TAG}: -1 when the tag applies to the
     * target type itself, otherwise the index of the member or parameter it applies to.
     */
    public int declTagComponentIdx() {
        requireKind(BtfKind.DECL_TAG);
        return btf.word(pos + 3);
    }

    private void requireKind(BtfKind expected) {
        if (kind() != expected) {
            throw wrongKind(expected + " data");
        }
    }

    private IllegalStateException wrongKind(String what) {
        return new IllegalStateException("type [" + id + "] is " + kind() + ", which has no " + what);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BtfType other && other.btf == btf && other.id == id;
    }

    @Override
    public int hashCode() {
        return Objects.hash(System.identityHashCode(btf), id);
    }

    /** In the style of {@code bpftool btf dump}: {@code [id] KIND 'name'}. */
    @Override
    public String toString() {
        return "[" + id + "] " + kind() + " '" + (nameOffset() == 0 ? "(anon)" : name()) + "'";
    }
}
