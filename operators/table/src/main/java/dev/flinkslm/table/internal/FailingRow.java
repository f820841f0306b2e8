package dev.flinkslm.table.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RawValueData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.types.RowKind;
import org.apache.flink.types.variant.Variant;

/**
 * The output row of a row that fails the query on the async path (error mode FAIL): reading any of its fields
 * throws the {@link RowScoring.QueryFailure}, on the task thread that emits, copies or serialises it.
 *
 * <p>Why not fail the row's future: Flink's async operator then fails the task with "Could not complete the stream
 * element: " followed by the whole input row, and so writes the customer's text into the failure and its log
 * lines. Completing the future with this row keeps the row in Flink's hands (it is checkpointed as in flight until
 * emitted, never dropped) and fails the task, with the provider's own message, as soon as anything reads the
 * model's output. The async function also throws the failure at its next call, for queries that read no model
 * column.
 *
 * <p>Threading: immutable.
 */
@Internal
final class FailingRow implements RowData {

    private final int arity;
    private final RowScoring.QueryFailure failure;

    FailingRow(int arity, RowScoring.QueryFailure failure) {
        this.arity = arity;
        this.failure = failure;
    }

    private RowScoring.QueryFailure fail() {
        return failure;
    }

    @Override
    public int getArity() {
        return arity;
    }

    @Override
    public RowKind getRowKind() {
        return RowKind.INSERT;
    }

    @Override
    public void setRowKind(RowKind kind) {
        throw fail();
    }

    @Override
    public boolean isNullAt(int pos) {
        throw fail();
    }

    @Override
    public boolean getBoolean(int pos) {
        throw fail();
    }

    @Override
    public byte getByte(int pos) {
        throw fail();
    }

    @Override
    public short getShort(int pos) {
        throw fail();
    }

    @Override
    public int getInt(int pos) {
        throw fail();
    }

    @Override
    public long getLong(int pos) {
        throw fail();
    }

    @Override
    public float getFloat(int pos) {
        throw fail();
    }

    @Override
    public double getDouble(int pos) {
        throw fail();
    }

    @Override
    public StringData getString(int pos) {
        throw fail();
    }

    @Override
    public DecimalData getDecimal(int pos, int precision, int scale) {
        throw fail();
    }

    @Override
    public TimestampData getTimestamp(int pos, int precision) {
        throw fail();
    }

    @Override
    public <T> RawValueData<T> getRawValue(int pos) {
        throw fail();
    }

    @Override
    public byte[] getBinary(int pos) {
        throw fail();
    }

    @Override
    public ArrayData getArray(int pos) {
        throw fail();
    }

    @Override
    public MapData getMap(int pos) {
        throw fail();
    }

    @Override
    public RowData getRow(int pos, int numFields) {
        throw fail();
    }

    @Override
    public Variant getVariant(int pos) {
        throw fail();
    }

    @Override
    public String toString() {
        return "(a row that failed the query: " + failure.getMessage() + ")";
    }
}
