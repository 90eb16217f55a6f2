/**
 * Requests and responses of the moderation API (docs/SERVICE.md §14.4). Not part of the device
 * API's route table: no device key reaches these routes, the SDK has no client for them, and
 * `GET /openapi.json` does not list them. The moderation CLI (scripts/moderate.ts) reads the
 * response types.
 */
import { AddressField, bytesField, integerText, REPORT_ID_BYTES } from 'sealpost/wire/api';
import * as v from 'valibot';
import type { AuditEntry } from '../../domain/moderation-ports.ts';
import type { SenderView } from '../../domain/moderation-service.ts';
import { MAX_MODERATION_NOTE, MAX_MODERATION_PAGE } from '../../domain/moderation-service.ts';
import type { ReportDecision, ReportStatus } from '../../domain/report-ports.ts';
import type { ContentPreview } from './content-preview.ts';

/** Path prefix of every moderation route. */
export const MODERATION_PREFIX = '/v1/moderation';

/** Entries of a listing when the request names no `limit`. */
export const DEFAULT_MODERATION_PAGE = 50;

/** A listing cursor as the service hands it out (opaque base64url). */
const CursorField = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,200}$/));

/** A report id path parameter. */
export const ReportIdParam = bytesField(REPORT_ID_BYTES);

/** An account address path parameter. */
export const AddressParam = AddressField;

/** `GET /v1/moderation/reports?status=&limit=&cursor=`. */
export const ListReportsQuerySchema = v.strictObject({
  status: v.optional(v.picklist(['open', 'decided'])),
  limit: v.optional(integerText(1, MAX_MODERATION_PAGE)),
  cursor: v.optional(CursorField),
});

/** `GET /v1/moderation/audit?limit=&cursor=`. */
export const AuditQuerySchema = v.strictObject({
  limit: v.optional(integerText(1, MAX_MODERATION_PAGE)),
  cursor: v.optional(CursorField),
});

/** `POST /v1/moderation/reports/{reportId}/decision`. */
export const DecisionRequestSchema = v.strictObject({
  decision: v.picklist(['dismiss', 'violation']),
  note: v.optional(v.pipe(v.string(), v.maxLength(MAX_MODERATION_NOTE))),
});

/** `PUT /v1/moderation/accounts/{address}/suspension`. */
export const SuspensionRequestSchema = v.strictObject({
  reason: v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(MAX_MODERATION_NOTE),
    v.check((s) => s.trim() !== '', 'empty'),
  ),
});

export type DecisionRequest = v.InferOutput<typeof DecisionRequestSchema>;
export type SuspensionRequest = v.InferOutput<typeof SuspensionRequestSchema>;

/** An account and device. */
export interface AccountDeviceJson {
  readonly address: string;
  readonly deviceId: number;
}

/** One report in a listing. */
export interface ReportSummaryJson {
  readonly reportId: string;
  readonly status: ReportStatus;
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly sender: AccountDeviceJson;
  /** Messages in the report: the reported one plus earlier ones. */
  readonly messages: number;
  readonly decision?: { readonly decision: string; readonly decidedAt: number };
}

/** `GET /v1/moderation/reports`. */
export interface ReportListJson {
  readonly reports: ReportSummaryJson[];
  readonly cursor?: string;
}

/** One message of a report. */
export interface ReportMessageJson {
  readonly messageId: string;
  readonly receivedAt: number;
  readonly stamp: string;
  /** The revealed content, base64url. */
  readonly content: string;
  readonly preview: ContentPreview;
}

/** `GET /v1/moderation/reports/{reportId}`. */
export interface ReportJson {
  readonly reportId: string;
  readonly status: ReportStatus;
  /** Every stored report was verified at intake (docs/SERVICE.md §14.2). */
  readonly verification: 'verified';
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly reporter: AccountDeviceJson;
  readonly sender: AccountDeviceJson;
  readonly message: ReportMessageJson;
  readonly previous: ReportMessageJson[];
  readonly decision?: ReportDecision;
}

/** `POST /v1/moderation/reports/{reportId}/decision`. */
export interface DecisionJson {
  readonly reportId: string;
  readonly status: 'decided';
  readonly decision: ReportDecision;
}

/** `GET /v1/moderation/senders/{address}`. */
export type SenderJson = SenderView;

/** `PUT /v1/moderation/accounts/{address}/suspension`. */
export interface SuspensionJson {
  readonly address: string;
  readonly suspendedAt: number;
  readonly reason: string;
}

/** `DELETE /v1/moderation/accounts/{address}/suspension`. */
export interface LiftJson {
  readonly address: string;
  readonly lifted: boolean;
}

/** `GET /v1/moderation/audit`. */
export interface AuditListJson {
  readonly entries: AuditEntry[];
  readonly cursor?: string;
}
