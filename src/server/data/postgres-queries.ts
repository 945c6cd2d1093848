/**
 * The SQL for one session look-up: one statement for the session's applications and one per
 * child table for all of those applications at once (`= ANY($1)`), never one per application.
 * Table and column names are PorticoEstate's booking module schema (see
 * test/fixtures/portico-schema.sql). Every child statement returns `wss_app`, the owning
 * application's id, so the rows can be grouped without another round trip.
 */

export interface NamedQuery { name: string; text: string }

/** PorticoEstate's status for an application still being filled in (the shopping cart). */
export const PARTIAL_STATUS = 'NEWPARTIAL1';

/** `SELECT *` as PorticoEstate does, so columns added by later PorticoEstate versions come along. */
export const APPLICATIONS: NamedQuery = {
  name: 'portico_ws_partial_applications',
  text: `SELECT a.* FROM bb_application a
          WHERE a.status = '${PARTIAL_STATUS}' AND a.session_id = $1
          ORDER BY a.id`,
};

export const DATES: NamedQuery = {
  name: 'portico_ws_partial_dates',
  text: `SELECT d.application_id AS wss_app, d.id, d.from_, d.to_
           FROM bb_application_date d
          WHERE d.application_id = ANY($1::int[])
          ORDER BY d.application_id, d.from_, d.id`,
};

/** One row per resource and building it belongs to (`building_id` null when it has none). */
export const RESOURCES: NamedQuery = {
  name: 'portico_ws_partial_resources',
  text: `SELECT r.*, br.building_id, ar.application_id AS wss_app
           FROM bb_application_resource ar
           JOIN bb_resource r ON r.id = ar.resource_id
           LEFT JOIN bb_building_resource br ON br.resource_id = r.id
          WHERE ar.application_id = ANY($1::int[])
          ORDER BY ar.application_id, r.id, br.building_id`,
};

/**
 * Purchase-order lines of orders that are not cancelled: they are both the `orders` (lines with
 * an article mapping, named after the resource (category 1) or service (category 2) they price)
 * and the `articles` (every line), so one statement serves both arrays.
 */
export const ORDER_LINES: NamedQuery = {
  name: 'portico_ws_partial_order_lines',
  text: `SELECT po.application_id AS wss_app, pol.id AS line_id, pol.order_id, pol.status,
                pol.parent_mapping_id, pol.article_mapping_id, am.id AS mapping_id, am.article_cat_id,
                pol.quantity, pol.unit_price, pol.overridden_unit_price, pol.currency, pol.amount,
                am.unit, pol.tax_code, pol.tax,
                COALESCE(r.name, s.name) AS name
           FROM bb_purchase_order po
           JOIN bb_purchase_order_line pol ON pol.order_id = po.id
           LEFT JOIN bb_article_mapping am ON am.id = pol.article_mapping_id
           LEFT JOIN bb_resource r ON am.article_cat_id = 1 AND r.id = am.article_id
           LEFT JOIN bb_service s ON am.article_cat_id = 2 AND s.id = am.article_id
          WHERE po.cancelled IS NULL AND po.application_id = ANY($1::int[])
          ORDER BY po.application_id, pol.id`,
};

export const AGEGROUPS: NamedQuery = {
  name: 'portico_ws_partial_agegroups',
  text: `SELECT ag.*, aag.male, aag.female, aag.application_id AS wss_app
           FROM bb_application_agegroup aag
           JOIN bb_agegroup ag ON ag.id = aag.agegroup_id
          WHERE aag.application_id = ANY($1::int[])
          ORDER BY aag.application_id, ag.sort, ag.id`,
};

export const AUDIENCE: NamedQuery = {
  name: 'portico_ws_partial_audience',
  text: `SELECT ta.id, ata.application_id AS wss_app
           FROM bb_application_targetaudience ata
           JOIN bb_targetaudience ta ON ta.id = ata.targetaudience_id
          WHERE ata.application_id = ANY($1::int[])
          ORDER BY ata.application_id, ta.sort, ta.id`,
};

export const DOCUMENTS: NamedQuery = {
  name: 'portico_ws_partial_documents',
  text: `SELECT doc.*, doc.owner_id AS wss_app
           FROM bb_document_application doc
          WHERE doc.owner_id = ANY($1::int[])
          ORDER BY doc.owner_id, doc.id`,
};

export const CHILD_QUERIES = { dates: DATES, resources: RESOURCES, orderLines: ORDER_LINES, agegroups: AGEGROUPS, audience: AUDIENCE, documents: DOCUMENTS } as const;
export type ChildName = keyof typeof CHILD_QUERIES;

export type Row = Record<string, unknown>;
export type ChildRows = Record<ChildName, Row[]>;

/** Statements a look-up runs: the applications, then each child table when there are any. */
export const statementsPerLookup = (applications: number): number => (applications === 0 ? 1 : 1 + Object.keys(CHILD_QUERIES).length);
