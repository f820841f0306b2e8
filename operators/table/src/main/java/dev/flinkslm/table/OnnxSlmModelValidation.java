package dev.flinkslm.table;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.CatalogModel;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.listener.AlterModelEvent;
import org.apache.flink.table.catalog.listener.CatalogModificationEvent;
import org.apache.flink.table.catalog.listener.CatalogModificationListener;
import org.apache.flink.table.catalog.listener.CatalogModificationListenerFactory;
import org.apache.flink.table.catalog.listener.CreateModelEvent;
import org.apache.flink.table.factories.FactoryUtil;

/**
 * Checks {@code CREATE MODEL} and {@code ALTER MODEL} statements of {@code onnx-slm} models as they run, with the
 * provider's own checks ({@link OnnxSlmModelProviderFactory#createModelProvider}), instead of when the first query
 * that uses the model is planned. Flink calls model providers only at planning, so without this listener a wrong
 * schema or option shows up at the first {@code SELECT ... ML_PREDICT}.
 *
 * <p>Enable it when the table environment is created (it cannot be switched on with {@code SET} later):
 *
 * <pre>{@code
 * table.catalog-modification.listeners: onnx-slm
 * }</pre>
 *
 * in the Flink configuration of the SQL client or gateway, or in the {@code EnvironmentSettings} configuration.
 *
 * <p>A rejected {@code CREATE TEMPORARY MODEL} is not registered. Flink stores a catalog (non-temporary) model, or
 * an altered one, before it tells listeners, so a rejected {@code CREATE MODEL} or {@code ALTER MODEL} fails with
 * that definition already in the catalog; the message says how to correct it. Models of other providers are
 * ignored.
 *
 * <p>Threading: stateless; Flink calls it on the thread that runs the statement.
 */
@PublicEvolving
public final class OnnxSlmModelValidation implements CatalogModificationListenerFactory {

    @Override
    public String factoryIdentifier() {
        return OnnxSlmModelProviderFactory.IDENTIFIER;
    }

    @Override
    public CatalogModificationListener createListener(Context context) {
        return event -> validate(event, context);
    }

    private static void validate(CatalogModificationEvent event, Context context) {
        ObjectIdentifier id;
        CatalogModel model;
        boolean temporary;
        if (event instanceof CreateModelEvent create) {
            id = create.identifier();
            model = create.model();
            temporary = create.isTemporary();
        } else if (event instanceof AlterModelEvent alter) {
            id = alter.identifier();
            model = alter.newModel();
            temporary = alter.isTemporary();
        } else {
            return;
        }
        if (!OnnxSlmModelProviderFactory.IDENTIFIER.equals(model.getOptions().get(FactoryUtil.PROVIDER.key()))
                || !(model instanceof ResolvedCatalogModel resolved)) {
            return;
        }
        try {
            new OnnxSlmModelProviderFactory()
                    .createModelProvider(new FactoryUtil.DefaultModelProviderContext(
                            id, resolved, context.getConfiguration(), context.getUserClassLoader(), temporary));
        } catch (ValidationException e) {
            if (temporary && event instanceof CreateModelEvent) {
                throw e; // not registered: Flink registers a temporary model only after its listeners return
            }
            String name = id.asSerializableString();
            String stored = event instanceof CreateModelEvent create && create.ignoreIfExists()
                    ? " If " + name + " existed before, CREATE MODEL IF NOT EXISTS left it unchanged; otherwise the"
                            + " catalog has stored this definition"
                    : " The catalog has already stored this definition of " + name;
            throw new ValidationException(
                    e.getMessage() + stored + ": correct it with ALTER MODEL " + name + " SET (...), or DROP MODEL "
                            + name + " and create it again.",
                    e);
        }
    }
}
