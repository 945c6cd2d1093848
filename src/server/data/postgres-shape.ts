/**
 * Shapes rows into the objects PorticoEstate serialises for a partial application (the PHP
 * `Application` model with its `Date`, short `Resource`, `Order`/`OrderLine` and `Document`
 * models), so existing browser code reads the same field names and value types as before.
 */
import type { ChildRows, Row } from './postgres-queries.js';
import { decodeEntities, parseBool, toFloat, toInt, wallClockToIso, withoutNulls } from './postgres-values.js';

/** The application's own fields, in the PHP model's order (`@EscapeString` ones decoded). */
const APPLICATION_FIELDS = [
  'id', 'id_string', 'active', 'display_in_dashboard', 'type', 'status', 'secret', 'created', 'modified',
  'building_name', 'building_id', 'frontend_modified', 'owner_id', 'case_officer_id', 'activity_id',
  'customer_identifier_type', 'customer_ssn', 'customer_organization_number', 'name', 'organizer', 'homepage',
  'description', 'equipment', 'contact_name', 'contact_email', 'contact_phone',
] as const;
const APPLICATION_TAIL_FIELDS = [
  'responsible_street', 'responsible_zip_code', 'responsible_city', 'session_id', 'agreement_requirements',
  'external_archive_key', 'customer_organization_name', 'customer_organization_id', 'recurring_info', 'parent_id',
] as const;
const ESCAPED = new Set(['building_name', 'name']);

/** The short `Resource` form used inside applications. */
function resource(row: Row): Record<string, unknown> {
  return withoutNulls({
    id: row.id,
    name: decodeEntities(row.name),
    activity_id: row.activity_id,
    active: row.active,
    rescategory_id: row.rescategory_id,
    direct_booking: row.direct_booking,
    simple_booking: row.simple_booking,
    simple_booking_start_date: row.simple_booking_start_date,
    participant_limit: row.participant_limit,
    // PorticoEstate's Resource model always resets this to 0 when it loads a row.
    deactivate_calendar: false,
    deactivate_application: parseBool(row.deactivate_application),
    hidden_in_frontend: parseBool(row.hidden_in_frontend),
    activate_prepayment: row.activate_prepayment,
    short_description: row.short_description,
    building_id: row.building_id,
  });
}

function date(row: Row, timeZone: string): Record<string, unknown> {
  return withoutNulls({ from_: wallClockToIso(row.from_, timeZone), to_: wallClockToIso(row.to_, timeZone), id: row.id });
}

function orderLine(row: Row): Record<string, unknown> {
  return withoutNulls({
    order_id: row.order_id,
    status: row.status,
    parent_mapping_id: row.parent_mapping_id,
    article_mapping_id: row.article_mapping_id,
    article_cat_id: row.article_cat_id,
    quantity: row.quantity,
    unit_price: row.unit_price,
    overridden_unit_price: row.overridden_unit_price,
    currency: row.currency,
    amount: row.amount,
    unit: row.unit,
    tax_code: row.tax_code,
    tax: row.tax,
    name: decodeEntities(row.name),
  });
}

/**
 * PorticoEstate groups order lines by the `id` of a `po.*, pol.*` row, which is the line's id
 * (the line's columns overwrite the order's), so each line is an order of its own whose
 * `order_id` is the line id and whose `sum` is that line's amount + tax. Kept as it is, because
 * browsers read it that way.
 */
function orders(rows: Row[]): Record<string, unknown>[] {
  return rows.filter((r) => r.mapping_id !== null && r.mapping_id !== undefined)
    .map((r) => ({ order_id: r.line_id, sum: toFloat(r.amount) + toFloat(r.tax), lines: [orderLine(r)] }));
}

/** PorticoEstate's `ArticleOrder` form: `{id, quantity, parent_id}`, whole numbers. */
function article(row: Row): Record<string, unknown> {
  const parent = toInt(row.parent_mapping_id);
  return { id: toInt(row.article_mapping_id), quantity: toInt(row.quantity), parent_id: parent ? parent : null };
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try { return JSON.parse(value); } catch { return null; }
}

function document(row: Row): Record<string, unknown> {
  const metadata = parseJson(row.metadata);
  const focal = (metadata as { focal_point?: { x?: unknown; y?: unknown } } | null)?.focal_point;
  return withoutNulls({
    id: row.id, name: row.name, description: row.description, category: row.category, owner_id: row.owner_id,
    metadata, focal_point_x: focal?.x, focal_point_y: focal?.y,
  });
}

/** Age-group rows go out as the raw rows PorticoEstate returns (agegroup columns + male/female). */
function agegroup(row: Row): Row {
  const { wss_app: _owner, ...rest } = row;
  return rest;
}

function groupBy(rows: Row[]): Map<unknown, Row[]> {
  const out = new Map<unknown, Row[]>();
  for (const row of rows) {
    const key = row.wss_app;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(row);
  }
  return out;
}

/** Assemble each application with its children; child rows of other applications are ignored. */
export function shapeApplications(applications: Row[], children: ChildRows, timeZone: string): Record<string, unknown>[] {
  const by = {
    dates: groupBy(children.dates), resources: groupBy(children.resources), lines: groupBy(children.orderLines),
    agegroups: groupBy(children.agegroups), audience: groupBy(children.audience), documents: groupBy(children.documents),
  };
  return applications.map((app) => {
    const id = app.id;
    const lines = by.lines.get(id) ?? [];
    const out: Record<string, unknown> = {};
    for (const f of APPLICATION_FIELDS) out[f] = ESCAPED.has(f) ? decodeEntities(app[f]) : app[f];
    out.agegroups = (by.agegroups.get(id) ?? []).map(agegroup);
    out.audience = (by.audience.get(id) ?? []).map((r) => r.id);
    out.dates = (by.dates.get(id) ?? []).map((r) => date(r, timeZone));
    out.resources = (by.resources.get(id) ?? []).map(resource);
    out.orders = orders(lines);
    out.documents = (by.documents.get(id) ?? []).map(document);
    for (const f of APPLICATION_TAIL_FIELDS) out[f] = app[f];
    out.articles = lines.map(article);
    return withoutNulls(out);
  });
}
