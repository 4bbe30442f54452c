// The domain errors both dialects throw, with Masakari's messages (the API answers them as 404 and 409).

import { conflict, notFound } from '../../domain/errors.ts';

export const segmentNotFound = (uuid: string) => notFound(`No failover segment with id ${uuid}.`);
export const hostNotFound = (uuid: string) => notFound(`No host with id ${uuid}.`);
export const notificationNotFound = (uuid: string) => notFound(`No notification with id ${uuid}.`);
export const vmoveNotFound = (uuid: string) => notFound(`No vmove with id ${uuid}.`);
export const taskNotFound = (notificationUuid: string, seq: number) => notFound(`No task ${seq} for notification ${notificationUuid}.`);

export const duplicateSegmentName = (name: string) => conflict(`Failover segment with name ${name} already exists.`);
export const duplicateHostName = (name: string) => conflict(`Host with name ${name} already exists.`);
export const duplicateNotification = (uuid: string) => conflict(`Notification ${uuid} already exists.`);
