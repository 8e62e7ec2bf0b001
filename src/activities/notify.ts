/**
 * Notifications: one Slack-compatible JSON POST per event (`text` first, so a Slack incoming webhook
 * shows the line; other receivers read the structured fields). With no webhook configured the
 * notification is only logged, so a local run needs no chat integration.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Notification, NotifyActivities } from '../api/activities';

export interface NotifyActivitiesDeps {
  webhookUrl?: string;
  fetch?: typeof fetch;
  /** Where notifications go when no webhook is set; defaults to console.log. */
  log?: (line: string) => void;
}

export function createNotifyActivities(deps: NotifyActivitiesDeps): NotifyActivities {
  const doFetch = deps.fetch ?? fetch;
  const log = deps.log ?? ((line: string) => console.log(line));

  async function notify(n: Notification): Promise<{ delivered: boolean }> {
    if (!deps.webhookUrl) {
      log(`[notify ${n.event}] ${n.workflowId}${n.stage ? ` (${n.stage})` : ''}: ${n.text}`);
      return { delivered: false };
    }
    const payload = { text: n.text, event: n.event, workflowId: n.workflowId, stage: n.stage, details: n.details };
    const res = await doFetch(deps.webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      const body = (await res.text()).slice(0, 300);
      // Chat webhooks fail transiently (rate limits, outages); the activity's retry policy decides when to give up.
      throw ApplicationFailure.retryable(`Notification webhook answered ${res.status}: ${body || '(empty body)'}`, 'NotifyFailed');
    }
    await res.arrayBuffer();
    return { delivered: true };
  }

  return { notify };
}
