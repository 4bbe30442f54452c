#!/usr/bin/python3
"""Progress details of a notification in the real Masakari 14.0.2, for the import test (test/cli/import-masakari*).

  taskflow-progress.py write --config-file FILE NOTIFICATION_UUID TASKS_JSON
      Records a recovery run the way masakari-engine's taskflow driver leaves it: a logbook named after the
      notification (uuid = notification uuid), one flow, one atom per task, with the task's state and
      meta = {progress, progress_details: {at_progress, details: {progress_details: [...]}}}, through taskflow's own
      persistence backend in masakari.conf's [taskflow] connection. TASKS_JSON: [{"name", "state", "details":
      [{"timestamp", "message", "progress"}]}] (what MasakariTask.update_details appends while a task runs). Used
      because running the real engine here needs RabbitMQ and minutes per flow.
  taskflow-progress.py read --config-file FILE NOTIFICATION_UUID
      Prints Masakari's own answer for recovery_workflow_details (API 1.1): TaskFlowDriver's
      get_notification_recovery_workflow_details on the notification and its segment's recovery method, as JSON.
      The API asks the engine for this over RPC; the lab's API runs without an engine, so the test calls the same
      function directly.
"""
import contextlib
import json
import sys
import uuid as uuidlib


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("write", "read") or sys.argv[2] != "--config-file":
        sys.exit(__doc__)
    action, conf_file, notification_uuid = sys.argv[1], sys.argv[3], sys.argv[4]
    import masakari.conf
    from masakari import config as masakari_config

    masakari_config.parse_args(["taskflow-progress", "--config-file", conf_file])
    conf = masakari.conf.CONF
    from taskflow.persistence import backends, models

    if action == "write":
        tasks = json.loads(sys.argv[5])
        backend = backends.fetch(conf.taskflow.connection)
        with contextlib.closing(backend.get_connection()) as conn:
            conn.upgrade()
            book = models.LogBook("recovery", notification_uuid)
            flow = models.FlowDetail("recovery_flow", str(uuidlib.uuid4()))
            book.add(flow)
            for t in tasks:
                atom = models.TaskDetail(t["name"], str(uuidlib.uuid4()))
                atom.state = t["state"]
                # An atom that never ran has no progress in its meta (Masakari then does not show it).
                if t["details"]:
                    for d in t["details"]:
                        d["progress"] = float(d["progress"])
                    last = t["details"][-1]["progress"]
                    atom.meta = {
                        "progress": last,
                        "progress_details": {"at_progress": last, "details": {"progress": last, "progress_details": t["details"]}},
                    }
                flow.add(atom)
            conn.save_logbook(book)
        return

    from masakari import context, objects
    from masakari.engine.drivers.taskflow import driver

    objects.register_all()
    ctx = context.get_admin_context()
    notification = objects.Notification.get_by_uuid(ctx, notification_uuid)
    host = objects.Host.get_by_uuid(ctx, notification.source_host_uuid)
    details = driver.TaskFlowDriver().get_notification_recovery_workflow_details(ctx, host.failover_segment.recovery_method, notification)
    print(json.dumps([{"name": d.name, "progress": d.progress, "progress_details": d.progress_details, "state": d.state} for d in details]))


if __name__ == "__main__":
    main()
